#pragma once

#include <QElapsedTimer>
#include <QIcon>
#include <QJsonObject>
#include <QMainWindow>
#include <QPointer>
#include <QTimer>

class QAction;
class QLabel;
class QLineEdit;
class QMessageBox;
class QPushButton;
class QSplitter;
class QTableView;
class QToolBar;

namespace ws2api::gui {

class AdminClient;
class ConnectionSelection;
class ConnectionsModel;
class CountersPanel;
class PushPanel;
class RateChart;

// ws2api-admin's window: a connection bar (the daemon's socket name, remembered),
// the paged connections table with a filter and "Disconnect selected" (the selection
// is of ClientIds, see ConnectionSelection; a disconnect asks first), the rate chart
// and counters fed by `stats` events, the push panel, and a status bar that says
// which daemon is attached or that the client is retrying.
class MainWindow : public QMainWindow
{
    Q_OBJECT

public:
    // Where the packaged daemon listens (group ws2api may use it).
    static inline const QString SystemSocketPath = QStringLiteral("/run/ws2api/ws2apid.sock");
    // ws2apid's own default for --admin.
    static inline const QString FallbackSocketName = QStringLiteral("ws2apid");
    // The first window's size, bounded by the screen; the table's columns all fit in it.
    static constexpr QSize DefaultSize{1200, 780};

    // An empty socketName means initialSocketName({}).
    explicit MainWindow(const QString &socketName = {}, QWidget *parent = nullptr);
    ~MainWindow() override;

    // `given` when set, else the one last chosen, else systemSocket when that file
    // exists, else FallbackSocketName.
    static QString initialSocketName(const QString &given, const QString &systemSocket = SystemSocketPath);
    // The theme's ws2api-admin icon, else the one built in.
    static QIcon applicationIcon();

    // remember: the operator chose it (command line, socket bar), so the next start uses it too.
    void connectToDaemon(const QString &socketName, bool remember = true);

    AdminClient *client() const { return m_client; }
    ConnectionsModel *connectionsModel() const { return m_model; }
    QTableView *connectionsView() const { return m_table; }
    QLineEdit *filterEdit() const { return m_filter; }
    QAction *disconnectAction() const { return m_disconnectAction; }
    RateChart *chart() const { return m_chart; }
    CountersPanel *counters() const { return m_counters; }
    PushPanel *pushPanel() const { return m_push; }
    QString statusText() const;

protected:
    void closeEvent(QCloseEvent *event) override;

private:
    QToolBar *buildConnectionBar();
    QWidget *buildConnectionsPane();
    QTableView *buildTable(QWidget *parent);
    QWidget *buildStatsPane();
    void restoreLayout();
    void saveLayout() const;
    void onConnected(const QJsonObject &hello);
    void onDisconnected();
    void updateStatus();
    void disconnectSelected();
    void closeConnections(const QStringList &clientIds);
    void updateTotal();
    void setDefaultColumnWidths();

    AdminClient *m_client = nullptr;
    ConnectionsModel *m_model = nullptr;
    QLineEdit *m_socketEdit = nullptr;
    QPushButton *m_connectButton = nullptr;
    QLineEdit *m_filter = nullptr;
    QLabel *m_totalLabel = nullptr;
    QTableView *m_table = nullptr;
    ConnectionSelection *m_selection = nullptr;
    QPointer<QMessageBox> m_confirmation;
    QAction *m_disconnectAction = nullptr;
    RateChart *m_chart = nullptr;
    CountersPanel *m_counters = nullptr;
    PushPanel *m_push = nullptr;
    QSplitter *m_mainSplitter = nullptr;
    QSplitter *m_lowerSplitter = nullptr;
    QLabel *m_status = nullptr;
    QTimer m_filterTimer;
    QTimer m_uptimeTimer;
    QJsonObject m_hello;
    QElapsedTimer m_sinceHello;
};

} // namespace ws2api::gui
