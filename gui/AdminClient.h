#pragma once

#include <QHash>
#include <QJsonObject>
#include <QObject>
#include <QString>
#include <QTimer>
#include <functional>

#include "AdminProtocol.h"

class QLocalSocket;

namespace ws2api::gui {

// The GUI's end of the admin protocol: one QLocalSocket to ws2apid, `hello` first,
// requests matched to replies by id, `stats` events forwarded as signals. It keeps
// trying to reach the daemon (growing delay, capped) until stop(), so the window
// survives daemon restarts, and it re-subscribes after every reconnect.
class AdminClient : public QObject
{
    Q_OBJECT

public:
    // A reply, or a local failure (errorCode "not_connected" / "disconnected") when
    // the daemon could not answer; called exactly once per request.
    using ReplyHandler = std::function<void(const admin::Incoming &reply)>;

    explicit AdminClient(QObject *parent = nullptr);
    ~AdminClient() override;

    // Drops any current connection and starts (re)connecting to socketName.
    void connectTo(const QString &socketName);
    void stop();

    QString socketName() const { return m_socketName; }
    bool isConnected() const { return m_ready; }
    QJsonObject helloBody() const { return m_hello; }

    // Returns the request id, or 0 when not connected (the handler then gets a
    // "not_connected" failure from the event loop, never from inside this call).
    qint64 request(const QString &type, const QJsonObject &body = {}, ReplyHandler onReply = {});

    // Remembered: sent again after every reconnect until unsubscribe().
    void subscribe(int intervalMs);
    void unsubscribe();

    // Delay before the first retry, doubled after each failure up to maxMs.
    void setRetryDelays(int initialMs, int maxMs);
    int retryDelayMs() const { return m_retryDelayMs; }

Q_SIGNALS:
    void connected(const QJsonObject &hello);
    void disconnected();
    void statsEvent(const QJsonObject &body);
    // Every failed attempt, with the delay before the next one; lets the UI say so.
    void retryScheduled(int delayMs);

private:
    void attempt();
    void onSocketConnected();
    void onSocketGone();
    void onReadyRead();
    void handleLine(const QByteArray &line);
    void handleHelloReply(const admin::Incoming &reply);
    void scheduleRetry();
    void failPending(const QString &code, const QString &message);
    qint64 send(const QString &type, const QJsonObject &body, ReplyHandler onReply);

    QLocalSocket *m_socket = nullptr;
    QString m_socketName;
    admin::LineReader m_reader;
    QHash<qint64, ReplyHandler> m_pending;
    qint64 m_nextId = 1;
    bool m_ready = false;     // hello answered
    bool m_running = false;   // between connectTo() and stop()
    QJsonObject m_hello;
    int m_subscribeIntervalMs = 0;  // 0: not subscribed
    QTimer m_retryTimer;
    QTimer m_helloTimer;
    int m_initialRetryMs = 1000;
    int m_maxRetryMs = 8000;
    int m_retryDelayMs = 1000;
};

} // namespace ws2api::gui
