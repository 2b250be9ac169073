#pragma once

#include <QJsonObject>
#include <QTimer>
#include <QWidget>

class QCompleter;
class QFormLayout;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QPushButton;
class QStringListModel;

namespace ws2api::gui {

class AdminClient;

// Sends a test push through the daemon: a text message in plain mode; an Action, a
// JSON object payload and an optional MessageId in ocpp mode (the daemon's mode
// comes from its hello). The payload is checked here, so a typo costs no round trip.
// An empty MessageId is made up here rather than by the daemon, whose reply does not
// carry it: the operator sees the one the API's CALLRESULT will name.
// ClientIds complete from a small `connections` query with what has been typed,
// never from the whole (possibly huge) table, in natural order (CP-2 before CP-10).
// A push's outcome is about the daemon that answered: it goes when that connection
// does, unless the drop is what cut the push short (that is news, shown until the
// next drop or another socket).
class PushPanel : public QWidget
{
    Q_OBJECT

public:
    static constexpr int CompletionLimit = 20;

    explicit PushPanel(AdminClient *client, QWidget *parent = nullptr);

    void setOcppMode(bool ocpp);
    bool isOcppMode() const { return m_ocpp; }
    void setClientId(const QString &clientId);
    // Forgets the last push's outcome, e.g. when another daemon is chosen.
    void clearOutcome();
    QCompleter *completer() const { return m_completer; }

Q_SIGNALS:
    // A reply came: ok with the daemon's outcome, or the error code.
    void pushFinished(bool ok, const QString &outcome);

private:
    void buildForm();
    void send();
    bool buildBody(QJsonObject *body);
    void showOutcome(bool ok, const QString &text);
    void showInputError(const QString &text);
    void queryCompletions();
    void updateSendButton();
    QString successText(const QJsonObject &sent, const QJsonObject &reply) const;

    AdminClient *m_client;
    bool m_ocpp = false;
    QFormLayout *m_form = nullptr;
    QLineEdit *m_clientId = nullptr;
    QPlainTextEdit *m_message = nullptr;
    QLineEdit *m_action = nullptr;
    QLineEdit *m_messageId = nullptr;
    QPlainTextEdit *m_payload = nullptr;
    QLabel *m_inputError = nullptr;
    QPushButton *m_send = nullptr;
    QLabel *m_outcome = nullptr;
    QCompleter *m_completer = nullptr;
    QStringListModel *m_completions = nullptr;
    QTimer m_completionTimer;
    bool m_sending = false;
    // The outcome shown is a push the connection's loss cut short.
    bool m_outcomeCutShort = false;
};

} // namespace ws2api::gui
