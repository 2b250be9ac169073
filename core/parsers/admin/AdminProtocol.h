#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QJsonObject>
#include <QJsonValue>
#include <QString>
#include <optional>

// The admin protocol (SPEC "Admin interface"): one compact JSON object per line, each
// line at most 1 MiB. Request {"id":N,"type":T,"body":{...}}; reply
// {"id":N,"ok":true,"body":{...}} or {"id":N,"ok":false,"error":{"code":C,"message":M}};
// events {"type":T,"body":{...}} carry no id. Shared by the daemon and ws2api-admin;
// QtCore only.
namespace ws2api::admin {

inline constexpr int ProtocolVersion = 1;
inline constexpr qsizetype MaxLineBytes = 1024 * 1024;

// Splits a byte stream into lines, telling "incomplete" from "too long".
class LineReader
{
public:
    enum class Status { Line, Incomplete, TooLong };

    void feed(QByteArrayView data);
    // Line: *line is the next line without its '\n'. TooLong: a line went over
    // MaxLineBytes; its bytes up to the next '\n' are dropped and it is reported once.
    Status next(QByteArray *line);

private:
    QByteArray m_buffer;
    bool m_discarding = false;
    qsizetype m_start = 0;    // where the next line begins in m_buffer
    qsizetype m_scanned = 0;  // m_buffer is known to hold no '\n' from m_start to here
};

struct Request
{
    std::optional<qint64> id;  // absent in malformed input only
    QString type;
    QJsonObject body;          // {} when absent
};

// A request line, or nullopt with *error set ("not JSON", "not an object", "no id",
// "id is not an integer", "no type", "body is not an object"); *id gets the id when one
// could be read, so the error reply can carry it. A request needs an id: its reply is
// matched by it. "body" absent or null reads as {}.
std::optional<Request> parseRequest(QByteArrayView line, QString *error, std::optional<qint64> *id);

// Encoded lines, '\n' included.
QByteArray encodeRequest(qint64 id, const QString &type, const QJsonObject &body = {});
QByteArray encodeReply(qint64 id, const QJsonObject &body);
QByteArray encodeError(std::optional<qint64> id, const QString &code, const QString &message);
QByteArray encodeEvent(const QString &type, const QJsonObject &body);

// What a client reads: a reply (id set) or an event (id absent). The one exception is
// the error reply to a request whose id could not be read: "ok" false, no id, no type.
// Errors: "not JSON", "not an object", "no type" (events), "id is not an integer",
// "ok is not a boolean", "body is not an object", "error is not an object with a code".
struct Incoming
{
    std::optional<qint64> id;
    QString type;          // events
    bool ok = false;       // replies
    QJsonObject body;
    QString errorCode;     // replies with ok == false
    QString errorMessage;
};
std::optional<Incoming> parseIncoming(QByteArrayView line, QString *error);

// A JSON number that is a whole qint64 (JSON has only doubles); nullopt otherwise, for
// ids and integer fields of bodies.
std::optional<qint64> integerValue(const QJsonValue &value);

} // namespace ws2api::admin
