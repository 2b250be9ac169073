#include "MainWindow.h"

#include <QAction>
#include <QCloseEvent>
#include <QFileInfo>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QMessageBox>
#include <QPointer>
#include <QPushButton>
#include <QScreen>
#include <QSettings>
#include <QSplitter>
#include <QStatusBar>
#include <QTableView>
#include <QToolBar>
#include <QVBoxLayout>

#include "AdminClient.h"
#include "ConnectionSelection.h"
#include "ConnectionsModel.h"
#include "CountersPanel.h"
#include "PushPanel.h"
#include "RateChart.h"

namespace ws2api::gui {

namespace {

constexpr int StatsIntervalMs = 1000;
// Typing "CP-12" must not scan 100k connections five times over.
constexpr int FilterDelayMs = 200;
const QString SocketKey = QStringLiteral("daemon/socketName");
// Room for a header's margins and sort arrow, or a cell's margins, beside the text.
constexpr int ColumnPadding = 24;

QString uptimeText(qint64 s)
{
    if (s < 60)
        return MainWindow::tr("%1 s").arg(s);
    if (s < 3600)
        return MainWindow::tr("%1 min %2 s").arg(s / 60).arg(s % 60, 2, 10, QLatin1Char('0'));
    if (s < 86400)
        return MainWindow::tr("%1 h %2 min").arg(s / 3600).arg(s % 3600 / 60, 2, 10, QLatin1Char('0'));
    return MainWindow::tr("%1 d %2 h").arg(s / 86400).arg(s % 86400 / 3600);
}

// Names every client for up to this many; beyond, a count says how many more.
constexpr int NamedInQuestion = 10;

QString disconnectQuestion(const QStringList &ids)
{
    if (ids.size() == 1)
        return MainWindow::tr("Disconnect %1?").arg(ids.first());
    QString text = MainWindow::tr("Disconnect these %1 clients?").arg(ids.size());
    for (const QString &id : ids.mid(0, NamedInQuestion))
        text += QLatin1Char('\n') + id;
    if (ids.size() > NamedInQuestion)
        text += QLatin1Char('\n') + MainWindow::tr("… and %1 more").arg(ids.size() - NamedInQuestion);
    return text;
}

QGroupBox *group(const QString &title, QWidget *content, QWidget *parent)
{
    auto *box = new QGroupBox(title, parent);
    auto *layout = new QVBoxLayout(box);
    layout->addWidget(content);
    return box;
}

} // namespace

MainWindow::MainWindow(const QString &socketName, QWidget *parent)
    : QMainWindow(parent)
    , m_client(new AdminClient(this))
{
    setWindowTitle(QStringLiteral("ws2api-admin"));
    setWindowIcon(applicationIcon());
    m_model = new ConnectionsModel(m_client, this);
    m_push = new PushPanel(m_client, this);

    addToolBar(Qt::TopToolBarArea, buildConnectionBar());
    m_lowerSplitter = new QSplitter(Qt::Horizontal, this);
    m_lowerSplitter->addWidget(group(tr("Connections"), buildConnectionsPane(), this));
    m_lowerSplitter->addWidget(group(tr("Test push"), m_push, this));
    m_lowerSplitter->setStretchFactor(0, 3);
    m_lowerSplitter->setStretchFactor(1, 1);
    m_mainSplitter = new QSplitter(Qt::Vertical, this);
    m_mainSplitter->addWidget(buildStatsPane());
    m_mainSplitter->addWidget(m_lowerSplitter);
    m_mainSplitter->setStretchFactor(0, 2);
    m_mainSplitter->setStretchFactor(1, 3);
    setCentralWidget(m_mainSplitter);

    m_status = new QLabel(this);
    m_status->setObjectName(QStringLiteral("daemonStatus"));
    // Not a permanent widget: that one would take the whole width and leave the status
    // bar's messages (disconnected, no longer selected) no room to be seen; this one
    // makes way for a message while it shows.
    statusBar()->addWidget(m_status, 1);

    connect(m_client, &AdminClient::connected, this, &MainWindow::onConnected);
    connect(m_client, &AdminClient::disconnected, this, &MainWindow::onDisconnected);
    connect(m_client, &AdminClient::statsEvent, this, [this](const QJsonObject &stats) {
        m_counters->setStats(stats);
        m_chart->addStats(stats);
    });
    connect(m_model, &ConnectionsModel::totalChanged, this, &MainWindow::updateTotal);
    m_uptimeTimer.setInterval(1000);
    connect(&m_uptimeTimer, &QTimer::timeout, this, &MainWindow::updateStatus);
    m_client->subscribe(StatsIntervalMs);

    resize(DefaultSize.boundedTo(screen()->availableSize()));
    restoreLayout();
    // A default is not the operator's choice: remembering it would hide a daemon
    // installed later at the system socket.
    connectToDaemon(initialSocketName(socketName), !socketName.isEmpty());
    // Typing at once filters the table; it must not overwrite the socket name.
    m_filter->setFocus();
}

MainWindow::~MainWindow() = default;

QString MainWindow::initialSocketName(const QString &given, const QString &systemSocket)
{
    if (!given.isEmpty())
        return given;
    const QString remembered = QSettings().value(SocketKey).toString();
    if (!remembered.isEmpty())
        return remembered;
    return QFileInfo::exists(systemSocket) ? systemSocket : FallbackSocketName;
}

QIcon MainWindow::applicationIcon()
{
    QIcon builtIn;
    for (const int size : {16, 32, 48, 64, 128, 256})
        builtIn.addFile(QStringLiteral(":/icons/ws2api-admin-%1.png").arg(size), QSize(size, size));
    return QIcon::fromTheme(QStringLiteral("ws2api-admin"), builtIn);
}

QToolBar *MainWindow::buildConnectionBar()
{
    auto *bar = new QToolBar(tr("Daemon"), this);
    bar->setObjectName(QStringLiteral("connectionBar"));
    bar->setMovable(false);
    bar->addWidget(new QLabel(tr("Daemon socket: "), bar));
    m_socketEdit = new QLineEdit(bar);
    m_socketEdit->setObjectName(QStringLiteral("socketEdit"));
    m_socketEdit->setMaximumWidth(320);
    m_socketEdit->setToolTip(tr("The name ws2apid was given with --admin (a local socket name or path)"));
    bar->addWidget(m_socketEdit);
    m_connectButton = new QPushButton(tr("Connect"), bar);
    m_connectButton->setObjectName(QStringLiteral("connectButton"));
    bar->addWidget(m_connectButton);
    const auto connectNow = [this] {
        if (!m_socketEdit->text().trimmed().isEmpty())
            connectToDaemon(m_socketEdit->text().trimmed());
    };
    connect(m_connectButton, &QPushButton::clicked, this, connectNow);
    connect(m_socketEdit, &QLineEdit::returnPressed, this, connectNow);
    return bar;
}

QWidget *MainWindow::buildConnectionsPane()
{
    auto *pane = new QWidget(this);
    auto *layout = new QVBoxLayout(pane);
    layout->setContentsMargins(0, 0, 0, 0);
    auto *row = new QHBoxLayout;
    m_filter = new QLineEdit(pane);
    m_filter->setObjectName(QStringLiteral("filterEdit"));
    m_filter->setPlaceholderText(tr("Filter by ClientId…"));
    m_filter->setClearButtonEnabled(true);
    m_totalLabel = new QLabel(pane);
    m_totalLabel->setObjectName(QStringLiteral("totalLabel"));
    auto *disconnectButton = new QPushButton(tr("Disconnect selected"), pane);
    disconnectButton->setObjectName(QStringLiteral("disconnectButton"));
    row->addWidget(m_filter, 1);
    row->addWidget(m_totalLabel);
    row->addWidget(disconnectButton);
    layout->addLayout(row);

    m_table = buildTable(pane);
    layout->addWidget(m_table, 1);
    setDefaultColumnWidths();

    m_disconnectAction = new QAction(tr("Disconnect selected"), this);
    m_disconnectAction->setShortcut(QKeySequence::Delete);
    m_disconnectAction->setShortcutContext(Qt::WidgetShortcut);
    m_table->addAction(m_disconnectAction);
    m_table->setContextMenuPolicy(Qt::ActionsContextMenu);
    connect(m_disconnectAction, &QAction::triggered, this, &MainWindow::disconnectSelected);
    connect(disconnectButton, &QPushButton::clicked, m_disconnectAction, &QAction::trigger);
    // The row an operator picks is the client they mean, for a push as for a disconnect,
    // wherever later refreshes move it.
    m_selection = new ConnectionSelection(m_model, m_table->selectionModel(), this);
    connect(m_selection, &ConnectionSelection::picked, m_push, &PushPanel::setClientId);
    connect(m_selection, &ConnectionSelection::dropped, this, [this](const QStringList &ids) {
        statusBar()->showMessage(tr("No longer listed, so no longer selected: %1").arg(ids.join(QStringLiteral(", "))),
                                 6000);
    });
    m_filterTimer.setSingleShot(true);
    m_filterTimer.setInterval(FilterDelayMs);
    connect(m_filter, &QLineEdit::textChanged, &m_filterTimer, qOverload<>(&QTimer::start));
    connect(&m_filterTimer, &QTimer::timeout, this, [this] { m_model->setFilter(m_filter->text().trimmed()); });
    updateTotal();
    return pane;
}

QTableView *MainWindow::buildTable(QWidget *parent)
{
    auto *table = new QTableView(parent);
    table->setObjectName(QStringLiteral("connectionsView"));
    table->setModel(m_model);
    table->setSelectionBehavior(QAbstractItemView::SelectRows);
    table->setSelectionMode(QAbstractItemView::ExtendedSelection);
    table->setAlternatingRowColors(true);
    table->setWordWrap(false);
    // Fixed row heights and no row header: nothing asks the model about rows it
    // does not paint, which is what keeps 100k rows cheap.
    table->verticalHeader()->hide();
    table->verticalHeader()->setSectionResizeMode(QHeaderView::Fixed);
    table->verticalHeader()->setDefaultSectionSize(table->fontMetrics().height() + 8);
    table->horizontalHeader()->setStretchLastSection(true);
    return table;
}

void MainWindow::setDefaultColumnWidths()
{
    // A typical value or the title, whichever is wider, and no more: at the default
    // window size every column fits, the last one included. Measured, not fixed
    // pixels, so a larger font does not push the last column out of sight.
    const QFontMetrics cell(m_table->font());
    const QFontMetrics title(m_table->horizontalHeader()->font());
    const QString typical[ConnectionsModel::ColumnCount] = {
        QStringLiteral("CP-0000000000"), QStringLiteral("127.0.0.1:65535"), QStringLiteral("ocpp2.0.1"),
        QStringLiteral("2026-12-31 23:59:59"), QLocale().toString(999999), QLocale().toString(999999),
        tr("59 min ago")};
    for (int column = 0; column < ConnectionsModel::ColumnCount; ++column) {
        const QString header = m_model->headerData(column, Qt::Horizontal, Qt::DisplayRole).toString();
        m_table->setColumnWidth(column, std::max(cell.horizontalAdvance(typical[column]), title.horizontalAdvance(header))
                                            + ColumnPadding);
    }
}

QWidget *MainWindow::buildStatsPane()
{
    auto *pane = new QSplitter(Qt::Horizontal, this);
    m_chart = new RateChart(pane);
    m_chart->setObjectName(QStringLiteral("rateChart"));
    m_counters = new CountersPanel(pane);
    m_counters->setObjectName(QStringLiteral("counters"));
    pane->addWidget(group(tr("Traffic"), m_chart, pane));
    pane->addWidget(group(tr("Counters"), m_counters, pane));
    pane->setStretchFactor(0, 4);
    pane->setStretchFactor(1, 1);
    return pane;
}

void MainWindow::connectToDaemon(const QString &socketName, bool remember)
{
    // Another daemon: its numbers must not read as the continuation of this one's.
    const bool another = socketName != m_client->socketName();
    if (another) {
        m_chart->clear();
        m_counters->clear();
    }
    m_socketEdit->setText(socketName);
    if (remember)
        QSettings().setValue(SocketKey, socketName);
    m_hello = {};
    m_client->connectTo(socketName);
    // After connectTo(): a push it cut short reports that first, about the old daemon.
    if (another)
        m_push->clearOutcome();
    updateStatus();
}

void MainWindow::onConnected(const QJsonObject &hello)
{
    m_hello = hello;
    m_sinceHello.start();
    m_uptimeTimer.start();
    m_chart->setNote({});
    updateTotal();
    updateStatus();
}

void MainWindow::onDisconnected()
{
    // Nothing the daemon said holds any more (the table empties itself); the chart
    // keeps the past, marked as such.
    m_hello = {};
    m_uptimeTimer.stop();
    m_counters->clear();
    m_chart->setNote(tr("Not connected to the daemon"));
    updateTotal();
    updateStatus();
}

QString MainWindow::statusText() const
{
    return m_status->text();
}

void MainWindow::updateStatus()
{
    if (!m_client->isConnected()) {
        m_status->setText(tr("Not connected — retrying (socket “%1”)").arg(m_client->socketName()));
        return;
    }
    const qint64 uptime = m_hello.value(QStringLiteral("uptimeS")).toInteger() + m_sinceHello.elapsed() / 1000;
    m_status->setText(tr("Connected to ws2apid %1 · listening on %2 · mode %3 · up %4 · socket “%5”")
                          .arg(m_hello.value(QStringLiteral("daemonVersion")).toString(),
                               m_hello.value(QStringLiteral("listen")).toString(),
                               m_hello.value(QStringLiteral("mode")).toString(), uptimeText(uptime),
                               m_client->socketName()));
}

void MainWindow::updateTotal()
{
    if (!m_client->isConnected()) {
        m_totalLabel->setText(tr("not connected"));
        return;
    }
    // Spelled out: tr("%n connection(s)", nullptr, n) prints "(s)" until a translation is loaded.
    const int total = m_model->rowCount();
    m_totalLabel->setText(total == 1 ? tr("1 connection") : tr("%1 connections").arg(QLocale().toString(total)));
}

void MainWindow::disconnectSelected()
{
    const QStringList ids = m_selection->clientIds();
    if (ids.isEmpty()) {
        statusBar()->showMessage(tr("Select the connections to close first."), 4000);
        return;
    }
    // Closing a charger's connection is a real act: it is named before it happens, and
    // what goes is what was named, whatever the table does meanwhile. Not exec(): the
    // table keeps refreshing while the question is open.
    delete m_confirmation;
    auto *box = new QMessageBox(QMessageBox::Question, tr("Disconnect"), disconnectQuestion(ids),
                                QMessageBox::Yes | QMessageBox::Cancel, this);
    box->setObjectName(QStringLiteral("disconnectConfirmation"));
    box->setTextFormat(Qt::PlainText);  // a ClientId is the client's own text
    box->setInformativeText(tr("The daemon closes the WebSocket now; the client may connect again."));
    box->button(QMessageBox::Yes)->setText(tr("&Disconnect"));
    box->setDefaultButton(QMessageBox::Cancel);
    box->setEscapeButton(QMessageBox::Cancel);
    box->setAttribute(Qt::WA_DeleteOnClose);
    connect(box, &QMessageBox::finished, this, [this, box, ids] {
        if (box->clickedButton() == box->button(QMessageBox::Yes))
            closeConnections(ids);
    });
    m_confirmation = box;
    box->open();
}

void MainWindow::closeConnections(const QStringList &clientIds)
{
    QPointer<MainWindow> self(this);
    for (const QString &id : clientIds) {
        const QJsonObject body{{QStringLiteral("clientId"), id},
                               {QStringLiteral("reason"), QStringLiteral("closed from ws2api-admin")}};
        m_client->request(QStringLiteral("disconnect"), body, [self, id](const admin::Incoming &reply) {
            if (!self)
                return;
            if (reply.ok)
                self->m_selection->forget(id);
            self->statusBar()->showMessage(reply.ok ? tr("Disconnected %1").arg(id)
                                                    : tr("Could not disconnect %1: %2").arg(id, reply.errorMessage),
                                           6000);
            self->m_model->refresh();
        });
    }
}

void MainWindow::restoreLayout()
{
    const QSettings settings;
    restoreGeometry(settings.value(QStringLiteral("window/geometry")).toByteArray());
    if (!m_mainSplitter->restoreState(settings.value(QStringLiteral("window/mainSplitter")).toByteArray()))
        m_mainSplitter->setSizes({300, 480});
    if (!m_lowerSplitter->restoreState(settings.value(QStringLiteral("window/lowerSplitter")).toByteArray()))
        m_lowerSplitter->setSizes({860, 340});
}

void MainWindow::saveLayout() const
{
    QSettings settings;
    settings.setValue(QStringLiteral("window/geometry"), saveGeometry());
    settings.setValue(QStringLiteral("window/mainSplitter"), m_mainSplitter->saveState());
    settings.setValue(QStringLiteral("window/lowerSplitter"), m_lowerSplitter->saveState());
}

void MainWindow::closeEvent(QCloseEvent *event)
{
    saveLayout();
    QMainWindow::closeEvent(event);
}

} // namespace ws2api::gui
