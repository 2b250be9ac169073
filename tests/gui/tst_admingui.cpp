// ws2api-admin's real widgets against a scripted admin daemon (FakeAdminDaemon):
// hello and the status bar, stats events, the lazily paged connections table, the
// filter, pushes in plain and ocpp mode, and reconnecting by itself when the daemon
// restarts or starts late. Picking and disconnecting rows: tst_adminselection; the
// command line: tst_admincommandline.
#include <QCompleter>
#include <QHeaderView>
#include <QScrollBar>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTableView>
#include <QTest>
#include <memory>

#include "AdminClient.h"
#include "ConnectionsModel.h"
#include "CountersPanel.h"
#include "FakeAdminDaemon.h"
#include "GuiTestSupport.h"
#include "MainWindow.h"
#include "PushPanel.h"
#include "RateChart.h"

using namespace ws2api;
using namespace ws2api::gui;
using namespace ws2api::test;

namespace {

QJsonObject statsBody(int n)
{
    return {{QStringLiteral("connections"), 42},
            {QStringLiteral("messagesIn"), 1000 + n},
            {QStringLiteral("messagesOut"), 900 + n},
            {QStringLiteral("messagesInPerS"), 12.5 * n},
            {QStringLiteral("messagesOutPerS"), 11.0 * n},
            {QStringLiteral("apiErrors"), 3},
            {QStringLiteral("apiLatencyP50Ms"), 4.0},
            {QStringLiteral("apiLatencyP99Ms"), 18.5},
            {QStringLiteral("pushes"), 7}};
}

} // namespace

class TestAdminGui : public QObject
{
    Q_OBJECT

private:
    QString m_name;

    std::unique_ptr<MainWindow> openWindow() { return test::openWindow(m_name); }

private Q_SLOTS:
    void initTestCase() { useTestSettings(QStringLiteral("tst_admingui")); }

    void init()
    {
        m_name = uniqueSocketName();
        forgetSettings();
    }

    void helloShowsTheDaemonInTheStatusBar()
    {
        FakeAdminDaemon daemon;
        QVERIFY(daemon.listen(m_name));
        auto w = openWindow();
        QTRY_VERIFY(w->client()->isConnected());
        QCOMPARE(daemon.requests(QStringLiteral("hello")).value(0).body.value(QStringLiteral("version")).toInt(), 1);
        QTRY_VERIFY(w->statusText().contains(QStringLiteral("127.0.0.1:4321")));
        QVERIFY(w->statusText().contains(QStringLiteral("mode plain")));
        QVERIFY(w->statusText().contains(QStringLiteral("9.9.9-test")));
        QVERIFY(w->statusText().contains(QStringLiteral("up 1 h 02 min")));
        QCOMPARE(w->windowTitle(), QStringLiteral("ws2api-admin"));
        QCOMPARE(child<QLineEdit>(w.get(), "socketEdit")->text(), m_name);
    }

    void statsEventsUpdateCountersAndChart()
    {
        FakeAdminDaemon daemon;
        QVERIFY(daemon.listen(m_name));
        auto w = openWindow();
        QTRY_COMPARE(daemon.count(QStringLiteral("subscribe")), 1);
        QCOMPARE(daemon.requests(QStringLiteral("subscribe")).first().body.value(QStringLiteral("intervalMs")).toInt(),
                 1000);
        QCOMPARE(w->chart()->sampleCount(), 0);
        for (int n = 1; n <= 3; ++n)
            daemon.sendStats(statsBody(n));
        QTRY_COMPARE(w->chart()->sampleCount(), 3);
        const QLocale locale;
        QCOMPARE(w->counters()->valueText(QStringLiteral("connections")), locale.toString(42));
        QCOMPARE(w->counters()->valueText(QStringLiteral("apiErrors")), locale.toString(3));
        QCOMPARE(w->counters()->valueText(QStringLiteral("pushes")), locale.toString(7));
        QCOMPARE(w->counters()->valueText(QStringLiteral("messagesIn")), locale.toString(1003));
        QCOMPARE(w->counters()->valueText(QStringLiteral("messagesInPerS")), locale.toString(37.5, 'f', 1));
        QCOMPARE(w->counters()->valueText(QStringLiteral("apiLatencyP99Ms")), locale.toString(18.5, 'f', 1));
        QVERIFY(!w->chart()->grab().isNull());  // paints with samples without tripping over
    }

    void tableShowsTheTotalAndFetchesOnlyVisiblePages()
    {
        FakeAdminDaemon daemon;
        daemon.total = 100000;
        QVERIFY(daemon.listen(m_name));
        auto w = openWindow();
        ConnectionsModel *model = w->connectionsModel();
        QTRY_COMPARE(model->rowCount(), 100000);
        QTRY_VERIFY(model->isLoaded(0));
        QCOMPARE(model->index(0, ConnectionsModel::ClientId).data().toString(), QStringLiteral("cp-000000"));
        QCOMPARE(child<QLabel>(w.get(), "totalLabel")->text(), QStringLiteral("%1 connections").arg(QLocale().toString(100000)));

        QTableView *view = w->connectionsView();
        view->scrollTo(model->index(50000, 0), QAbstractItemView::PositionAtTop);
        QTRY_VERIFY(model->isLoaded(50000));
        QTRY_COMPARE(model->index(50000, ConnectionsModel::ClientId).data().toString(), QStringLiteral("cp-050000"));

        const auto pages = daemon.requests(QStringLiteral("connections"));
        QVERIFY(!pages.isEmpty());
        for (const auto &page : pages) {
            const qint64 offset = page.body.value(QStringLiteral("offset")).toInteger();
            const qint64 limit = page.body.value(QStringLiteral("limit")).toInteger();
            QVERIFY2(limit > 0 && limit <= 1000, qPrintable(QString::number(limit)));
            // The top of the table, then the screen around row 50,000: nothing between.
            const bool nearTop = offset < 2 * ConnectionsModel::PageSize;
            const bool nearRow = offset >= 50000 - 2 * ConnectionsModel::PageSize && offset < 50000 + 2 * ConnectionsModel::PageSize;
            QVERIFY2(nearTop || nearRow, qPrintable(QString::number(offset)));
        }
        QVERIFY(model->cachedPageCount() <= 6);
        QVERIFY(!model->isLoaded(20000));
    }

    void typingInTheFilterAsksTheDaemon()
    {
        FakeAdminDaemon daemon;
        QVERIFY(daemon.listen(m_name));
        auto w = openWindow();
        QTRY_COMPARE(w->connectionsModel()->rowCount(), 100000);
        QTest::keyClicks(w->filterEdit(), QStringLiteral("cp-0042"));
        const auto filtered = [&] {
            for (const auto &r : daemon.requests(QStringLiteral("connections"))) {
                if (r.body.value(QStringLiteral("filter")).toString() == QLatin1String("cp-0042"))
                    return true;
            }
            return false;
        };
        QTRY_VERIFY(filtered());
        QTRY_COMPARE(w->connectionsModel()->rowCount(), 100);  // cp-004200 .. cp-004299
        QTRY_COMPARE(w->connectionsModel()->clientIdAt(0), QStringLiteral("cp-004200"));
    }

    void plainPushSendsTheMessageAndShowsTheOutcome()
    {
        FakeAdminDaemon daemon;
        QVERIFY(daemon.listen(m_name));
        auto w = openWindow();
        QTRY_VERIFY(w->client()->isConnected());
        PushPanel *panel = w->pushPanel();
        QVERIFY(!panel->isOcppMode());
        QVERIFY(child<QPlainTextEdit>(panel, "messageEdit")->isVisible());
        QVERIFY(!child<QLineEdit>(panel, "actionEdit")->isVisible());

        auto *clientId = child<QLineEdit>(panel, "clientIdEdit");
        auto *inputError = child<QLabel>(panel, "inputError");
        QTest::mouseClick(child<QPushButton>(panel, "sendButton"), Qt::LeftButton);
        QVERIFY(inputError->isVisible());  // no ClientId: nothing goes out
        QTest::keyClicks(clientId, QStringLiteral("cp-000007"));
        QTest::mouseClick(child<QPushButton>(panel, "sendButton"), Qt::LeftButton);
        QVERIFY(inputError->isVisible());  // no message either
        QTest::keyClicks(child<QPlainTextEdit>(panel, "messageEdit"), QStringLiteral("hello there"));
        QTest::mouseClick(child<QPushButton>(panel, "sendButton"), Qt::LeftButton);
        QVERIFY(!inputError->isVisible());
        QTRY_COMPARE(daemon.count(QStringLiteral("push")), 1);
        const QJsonObject body = daemon.requests(QStringLiteral("push")).first().body;
        QCOMPARE(body.value(QStringLiteral("clientId")).toString(), QStringLiteral("cp-000007"));
        QCOMPARE(body.value(QStringLiteral("message")).toString(), QStringLiteral("hello there"));
        auto *outcome = child<QLabel>(panel, "outcomeLabel");
        QTRY_VERIFY(outcome->text().contains(QStringLiteral("200")));

        // The ClientId completer asked the daemon with what was typed, not for everything.
        QTRY_COMPARE(panel->completer()->model()->rowCount(), 1);
        QCOMPARE(panel->completer()->model()->index(0, 0).data().toString(), QStringLiteral("cp-000007"));
        for (const auto &r : daemon.requests(QStringLiteral("connections"))) {
            if (!r.body.value(QStringLiteral("filter")).toString().isEmpty())
                QCOMPARE(r.body.value(QStringLiteral("limit")).toInt(), PushPanel::CompletionLimit);
        }

        clientId->clear();
        QTest::keyClicks(clientId, QStringLiteral("ghost"));
        QTest::mouseClick(child<QPushButton>(panel, "sendButton"), Qt::LeftButton);
        QTRY_VERIFY(outcome->text().contains(QStringLiteral("unknown_client")));
    }

    void pushOutcomeGoesWithTheDaemonItCameFrom()
    {
        auto daemon = std::make_unique<FakeAdminDaemon>();
        QVERIFY(daemon->listen(m_name));
        auto w = openWindow();
        QTRY_VERIFY(w->client()->isConnected());
        PushPanel *panel = w->pushPanel();
        auto *outcome = child<QLabel>(panel, "outcomeLabel");
        auto *send = child<QPushButton>(panel, "sendButton");
        QTest::keyClicks(child<QLineEdit>(panel, "clientIdEdit"), QStringLiteral("cp-000007"));
        QTest::keyClicks(child<QPlainTextEdit>(panel, "messageEdit"), QStringLiteral("hello"));
        QTest::mouseClick(send, Qt::LeftButton);
        QTRY_VERIFY(outcome->text().contains(QStringLiteral("200")));

        // The daemon goes (or restarts): what it said about that push is history.
        daemon->shutdown();
        QTRY_VERIFY(!w->client()->isConnected());
        QCOMPARE(outcome->text(), QString());

        // A push the drop cut short says so, until another socket is chosen.
        daemon = std::make_unique<FakeAdminDaemon>();
        daemon->unanswered.insert(QStringLiteral("push"));
        QVERIFY(daemon->listen(m_name));
        QTRY_VERIFY(w->client()->isConnected());
        QTest::mouseClick(send, Qt::LeftButton);
        QTRY_COMPARE(daemon->count(QStringLiteral("push")), 1);
        daemon->shutdown();
        QTRY_VERIFY2(outcome->text().contains(QStringLiteral("disconnected")), qPrintable(outcome->text()));
        auto *socketEdit = child<QLineEdit>(w.get(), "socketEdit");
        socketEdit->clear();
        QTest::keyClicks(socketEdit, uniqueSocketName());
        QTest::mouseClick(child<QPushButton>(w.get(), "connectButton"), Qt::LeftButton);
        QCOMPARE(outcome->text(), QString());
    }

    void ocppPushValidatesThePayloadBeforeSending()
    {
        FakeAdminDaemon daemon;
        daemon.mode = QStringLiteral("ocpp");
        QVERIFY(daemon.listen(m_name));
        auto w = openWindow();
        PushPanel *panel = w->pushPanel();
        QTRY_VERIFY(panel->isOcppMode());
        QVERIFY(w->statusText().contains(QStringLiteral("mode ocpp")));
        QVERIFY(child<QLineEdit>(panel, "actionEdit")->isVisible());
        QVERIFY(child<QPlainTextEdit>(panel, "payloadEdit")->isVisible());
        QVERIFY(!child<QPlainTextEdit>(panel, "messageEdit")->isVisible());

        QTest::keyClicks(child<QLineEdit>(panel, "clientIdEdit"), QStringLiteral("cp-000001"));
        QTest::keyClicks(child<QLineEdit>(panel, "actionEdit"), QStringLiteral("Reset"));
        auto *payload = child<QPlainTextEdit>(panel, "payloadEdit");
        auto *error = child<QLabel>(panel, "inputError");
        auto *send = child<QPushButton>(panel, "sendButton");

        payload->clear();
        QTest::keyClicks(payload, QStringLiteral("{\"type\": "));
        QTest::mouseClick(send, Qt::LeftButton);
        QVERIFY(error->isVisible());
        QVERIFY2(error->text().contains(QStringLiteral("not JSON")), qPrintable(error->text()));

        payload->setPlainText(QStringLiteral("[1, 2]"));
        QTest::mouseClick(send, Qt::LeftButton);
        QVERIFY(error->isVisible());
        QVERIFY2(error->text().contains(QStringLiteral("JSON object")), qPrintable(error->text()));

        // The socket keeps order: had either bad payload gone out, it would arrive first.
        payload->setPlainText(QStringLiteral("{\"type\": \"Hard\"}"));
        QTest::mouseClick(send, Qt::LeftButton);
        QVERIFY(!error->isVisible());
        QTRY_COMPARE(daemon.count(QStringLiteral("push")), 1);
        const QJsonObject body = daemon.requests(QStringLiteral("push")).first().body;
        QCOMPARE(body.value(QStringLiteral("action")).toString(), QStringLiteral("Reset"));
        QCOMPARE(body.value(QStringLiteral("payload")).toObject(), (QJsonObject{{QStringLiteral("type"), QStringLiteral("Hard")}}));
        QVERIFY(!body.contains(QStringLiteral("message")));
        QTRY_VERIFY(child<QLabel>(panel, "outcomeLabel")->text().contains(QStringLiteral("200")));
    }

    void defaultSocketIsThePackagedDaemonsWhenItExists()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString system = dir.filePath(QStringLiteral("ws2apid.sock"));
        QCOMPARE(MainWindow::initialSocketName({}, system), QStringLiteral("ws2apid"));
        QFile file(system);
        QVERIFY(file.open(QIODevice::WriteOnly));
        QCOMPARE(MainWindow::initialSocketName({}, system), system);
        QCOMPARE(MainWindow::initialSocketName(QStringLiteral("mine"), system), QStringLiteral("mine"));
        // Chosen once, remembered over the default; the default itself is never remembered.
        {
            MainWindow window;
            QCOMPARE(window.client()->socketName(), MainWindow::initialSocketName({}));
        }
        QCOMPARE(MainWindow::initialSocketName({}, system), system);
        {
            MainWindow window(m_name);
        }
        QCOMPARE(MainWindow::initialSocketName({}, system), m_name);
    }

    void windowHasTheApplicationIcon()
    {
        QVERIFY(QFile::exists(QStringLiteral(":/icons/ws2api-admin-256.png")));
        const QIcon icon = MainWindow::applicationIcon();
        QVERIFY(!icon.isNull());
        QVERIFY(!icon.pixmap(32, 32).isNull());
        MainWindow window(m_name);
        QVERIFY(!window.windowIcon().isNull());
    }

    void droppedDaemonLeavesNothingListed()
    {
        auto daemon = std::make_unique<FakeAdminDaemon>();
        daemon->total = 10;
        QVERIFY(daemon->listen(m_name));
        auto w = openWindow();
        QTRY_COMPARE(w->connectionsModel()->rowCount(), 10);
        QTRY_VERIFY(w->connectionsModel()->isLoaded(9));
        daemon->sendStats(statsBody(1));
        QTRY_COMPARE(w->counters()->valueText(QStringLiteral("pushes")), QLocale().toString(7));
        auto *send = child<QPushButton>(w->pushPanel(), "sendButton");
        QVERIFY(send->isEnabled());
        send->setFocus();

        daemon->shutdown();
        QTRY_VERIFY(!w->client()->isConnected());
        // What the daemon said is no longer true: no rows, no total, no counters.
        QCOMPARE(w->connectionsModel()->rowCount(), 0);
        QVERIFY(w->connectionsModel()->clientIdAt(0).isEmpty());
        const QString total = child<QLabel>(w.get(), "totalLabel")->text();
        QVERIFY2(!total.contains(QLatin1Char('1')) && total.contains(QStringLiteral("not connected")), qPrintable(total));
        QCOMPARE(w->counters()->valueText(QStringLiteral("pushes")), QStringLiteral("\u2014"));
        QVERIFY(!send->isEnabled());
        QVERIFY(w->focusWidget() != child<QLineEdit>(w.get(), "socketEdit"));
        QVERIFY(!w->chart()->note().isEmpty());

        FakeAdminDaemon again;
        again.total = 3;
        QVERIFY(again.listen(m_name));
        QTRY_COMPARE(w->connectionsModel()->rowCount(), 3);
        QTRY_COMPARE(child<QLabel>(w.get(), "totalLabel")->text(), QStringLiteral("3 connections"));
        QVERIFY(send->isEnabled());
        QVERIFY(w->chart()->note().isEmpty());
    }

    void switchingSocketsForgetsThePreviousDaemon()
    {
        FakeAdminDaemon first;
        QVERIFY(first.listen(m_name));
        auto w = openWindow();
        QTRY_COMPARE(first.count(QStringLiteral("subscribe")), 1);
        for (int n = 1; n <= 3; ++n)
            first.sendStats(statsBody(n));
        QTRY_COMPARE(w->chart()->sampleCount(), 3);

        const QString otherName = uniqueSocketName();
        FakeAdminDaemon second;
        second.total = 2;
        QVERIFY(second.listen(otherName));
        auto *socketEdit = child<QLineEdit>(w.get(), "socketEdit");
        socketEdit->clear();
        QTest::keyClicks(socketEdit, otherName);
        QTest::mouseClick(child<QPushButton>(w.get(), "connectButton"), Qt::LeftButton);
        QCOMPARE(w->chart()->sampleCount(), 0);
        QCOMPARE(w->counters()->valueText(QStringLiteral("connections")), QStringLiteral("\u2014"));
        QTRY_COMPARE(second.count(QStringLiteral("subscribe")), 1);
        QTRY_COMPARE(w->connectionsModel()->rowCount(), 2);
        second.sendStats(statsBody(1));
        QTRY_COMPARE(w->chart()->sampleCount(), 1);
        QVERIFY(w->statusText().contains(otherName));
    }

    void clientIdCompletionsAreInNaturalOrder()
    {
        FakeAdminDaemon daemon;
        daemon.clientIds = {QStringLiteral("CP-1"), QStringLiteral("CP-10"), QStringLiteral("CP-2")};
        QVERIFY(daemon.listen(m_name));
        auto w = openWindow();
        QTRY_VERIFY(w->client()->isConnected());
        PushPanel *panel = w->pushPanel();
        QTest::keyClicks(child<QLineEdit>(panel, "clientIdEdit"), QStringLiteral("CP"));
        QTRY_COMPARE(panel->completer()->model()->rowCount(), 3);
        QStringList shown;
        for (int row = 0; row < 3; ++row)
            shown << panel->completer()->model()->index(row, 0).data().toString();
        QCOMPARE(shown, (QStringList{QStringLiteral("CP-1"), QStringLiteral("CP-2"), QStringLiteral("CP-10")}));
    }

    void totalSaysConnectionOrConnections_data()
    {
        QTest::addColumn<int>("total");
        QTest::addColumn<QString>("text");
        QTest::addRow("none") << 0 << QStringLiteral("0 connections");
        QTest::addRow("one") << 1 << QStringLiteral("1 connection");
        QTest::addRow("two") << 2 << QStringLiteral("2 connections");
        QTest::addRow("many") << 1234 << QStringLiteral("%1 connections").arg(QLocale().toString(1234));
    }

    void totalSaysConnectionOrConnections()
    {
        QFETCH(int, total);
        QFETCH(QString, text);
        FakeAdminDaemon daemon;
        daemon.total = total;
        QVERIFY(daemon.listen(m_name));
        auto w = openWindow();
        QTRY_VERIFY(w->client()->isConnected());
        QTRY_COMPARE(child<QLabel>(w.get(), "totalLabel")->text(), text);
    }

    void lastColumnFitsAtTheDefaultSize()
    {
        FakeAdminDaemon daemon;
        daemon.total = 3;
        QVERIFY(daemon.listen(m_name));
        auto w = openWindow();
        // A screen smaller than that (offscreen's is 800x600 unless configured) bounds it.
        w->resize(MainWindow::DefaultSize);
        QTRY_COMPARE(w->size(), MainWindow::DefaultSize);
        QTRY_VERIFY(w->connectionsModel()->isLoaded(2));
        QTableView *view = w->connectionsView();
        QHeaderView *header = view->horizontalHeader();
        const int last = ConnectionsModel::ColumnCount - 1;
        const QString title = w->connectionsModel()->headerData(last, Qt::Horizontal, Qt::DisplayRole).toString();
        // The header stretches its last section on the next turn of the event loop.
        QTRY_VERIFY2(header->sectionViewportPosition(last) + header->sectionSize(last) <= view->viewport()->width(),
                 qPrintable(QStringLiteral("last column at %1+%2, view %3 wide, window %4 wide")
                                .arg(header->sectionViewportPosition(last)).arg(header->sectionSize(last))
                                .arg(view->viewport()->width()).arg(w->width())));
        QVERIFY2(header->sectionSize(last) > header->fontMetrics().horizontalAdvance(title),
                 qPrintable(QString::number(header->sectionSize(last))));
        QVERIFY(!view->horizontalScrollBar()->isVisible());
        for (int column = 0; column < last; ++column) {
            const QString name = w->connectionsModel()->headerData(column, Qt::Horizontal, Qt::DisplayRole).toString();
            QVERIFY2(header->sectionSize(column) > header->fontMetrics().horizontalAdvance(name), qPrintable(name));
        }
    }

    void ocppPushShowsTheMessageIdUsed()
    {
        FakeAdminDaemon daemon;
        daemon.mode = QStringLiteral("ocpp");
        QVERIFY(daemon.listen(m_name));
        auto w = openWindow();
        PushPanel *panel = w->pushPanel();
        QTRY_VERIFY(panel->isOcppMode());
        QTest::keyClicks(child<QLineEdit>(panel, "clientIdEdit"), QStringLiteral("cp-000001"));
        QTest::keyClicks(child<QLineEdit>(panel, "actionEdit"), QStringLiteral("Reset"));
        auto *outcome = child<QLabel>(panel, "outcomeLabel");
        auto *send = child<QPushButton>(panel, "sendButton");

        // Left empty: one is made up here, sent, and shown, so the API's CALLRESULT can be matched.
        QTest::mouseClick(send, Qt::LeftButton);
        QTRY_COMPARE(daemon.count(QStringLiteral("push")), 1);
        const QString generated = daemon.requests(QStringLiteral("push")).first().body.value(QStringLiteral("messageId")).toString();
        QVERIFY(!generated.isEmpty() && generated.size() <= 36);
        QTRY_VERIFY2(outcome->text().contains(generated), qPrintable(outcome->text()));

        QTest::keyClicks(child<QLineEdit>(panel, "messageIdEdit"), QStringLiteral("reset-42"));
        QTest::mouseClick(send, Qt::LeftButton);
        QTRY_COMPARE(daemon.count(QStringLiteral("push")), 2);
        QCOMPARE(daemon.requests(QStringLiteral("push")).last().body.value(QStringLiteral("messageId")).toString(),
                 QStringLiteral("reset-42"));
        QTRY_VERIFY2(outcome->text().contains(QStringLiteral("reset-42")), qPrintable(outcome->text()));
    }

    void reconnectsAndSaysHelloAgainAfterADaemonRestart()
    {
        auto first = std::make_unique<FakeAdminDaemon>();
        QVERIFY(first->listen(m_name));
        auto w = openWindow();
        QTRY_VERIFY(w->client()->isConnected());
        QTRY_COMPARE(first->count(QStringLiteral("subscribe")), 1);
        QSignalSpy lost(w->client(), &AdminClient::disconnected);
        QSignalSpy back(w->client(), &AdminClient::connected);
        QSignalSpy retries(w->client(), &AdminClient::retryScheduled);

        first->shutdown();
        QTRY_COMPARE(lost.size(), 1);
        // Retrying against nothing, and scheduling the next try after each failure.
        QTRY_VERIFY(retries.size() >= 3);
        QVERIFY(!w->client()->isConnected());
        QVERIFY2(w->statusText().contains(QStringLiteral("retrying")), qPrintable(w->statusText()));
        QCOMPARE(w->counters()->valueText(QStringLiteral("connections")), QStringLiteral("\u2014"));

        FakeAdminDaemon second;
        QVERIFY(second.listen(m_name));
        QTRY_COMPARE(back.size(), 1);
        QCOMPARE(second.count(QStringLiteral("hello")), 1);
        QTRY_VERIFY(w->statusText().contains(QStringLiteral("Connected")));
        QTRY_COMPARE(second.count(QStringLiteral("subscribe")), 1);  // stats resume by themselves
        QTRY_VERIFY(second.count(QStringLiteral("connections")) >= 1);  // and the table reloads
        second.sendStats(statsBody(1));
        QTRY_COMPARE(w->chart()->sampleCount(), 1);
    }

    void connectsWhenTheDaemonStartsLate()
    {
        auto w = openWindow();
        QVERIFY(!w->client()->isConnected());
        QVERIFY(w->statusText().contains(QStringLiteral("retrying")));
        FakeAdminDaemon daemon;
        QVERIFY(daemon.listen(m_name));
        QTRY_VERIFY(w->client()->isConnected());
        QCOMPARE(daemon.count(QStringLiteral("hello")), 1);
    }

    void pendingRequestsFailWhenTheDaemonGoesAway()
    {
        AdminClient client;
        client.setRetryDelays(20, 200);
        std::optional<admin::Incoming> early;
        client.request(QStringLiteral("stats"), {}, [&](const admin::Incoming &r) { early = r; });
        QTRY_VERIFY(early.has_value());
        QCOMPARE(early->errorCode, QStringLiteral("not_connected"));

        FakeAdminDaemon daemon;
        QVERIFY(daemon.listen(m_name));
        QSignalSpy connected(&client, &AdminClient::connected);
        client.connectTo(m_name);
        QTRY_COMPARE(connected.size(), 1);
        QCOMPARE(connected.first().first().toJsonObject().value(QStringLiteral("mode")).toString(), QStringLiteral("plain"));

        std::optional<admin::Incoming> refused;
        client.request(QStringLiteral("disconnect"), {{QStringLiteral("clientId"), QStringLiteral("ghost")}},
                       [&](const admin::Incoming &r) { refused = r; });
        QTRY_VERIFY(refused.has_value());
        QVERIFY(!refused->ok);
        QCOMPARE(refused->errorCode, QStringLiteral("unknown_client"));

        // Answered by nobody: the daemon goes away before it replies.
        daemon.unanswered.insert(QStringLiteral("push"));
        std::optional<admin::Incoming> orphan;
        client.request(QStringLiteral("push"), {{QStringLiteral("clientId"), QStringLiteral("cp-000001")}},
                       [&](const admin::Incoming &r) { orphan = r; });
        QTRY_COMPARE(daemon.count(QStringLiteral("push")), 1);
        QVERIFY(!orphan.has_value());
        daemon.shutdown();
        QTRY_VERIFY(orphan.has_value());
        QVERIFY(!orphan->ok);
        QCOMPARE(orphan->errorCode, QStringLiteral("disconnected"));
    }
};

QTEST_MAIN(TestAdminGui)
#include "tst_admingui.moc"
