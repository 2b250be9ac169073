#include "AdminProtocol.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonValue>

namespace ws2api::admin {

namespace {

QByteArray encodeLine(const QJsonObject &object)
{
    QByteArray line = QJsonDocument(object).toJson(QJsonDocument::Compact);
    line.append('\n');
    return line;
}

// The object a line holds, or nullopt with *error "not JSON" / "not an object".
std::optional<QJsonObject> objectOf(QByteArrayView line, QString *error)
{
    QJsonParseError parseError;
    const QJsonDocument document = QJsonDocument::fromJson(line.toByteArray(), &parseError);
    if (parseError.error != QJsonParseError::NoError) {
        // Qt takes only objects and arrays as documents; a lone string or number is JSON
        // all the same, and "not an object" tells the sender more.
        const QByteArray wrapped = '[' + line.toByteArray() + ']';
        const QJsonDocument scalar = QJsonDocument::fromJson(wrapped, &parseError);
        const bool isScalar = parseError.error == QJsonParseError::NoError && scalar.array().size() == 1;
        *error = isScalar ? QStringLiteral("not an object") : QStringLiteral("not JSON");
        return std::nullopt;
    }
    if (!document.isObject()) {
        *error = QStringLiteral("not an object");
        return std::nullopt;
    }
    return document.object();
}

// "body" absent or null reads as {}; anything else but an object is malformed.
bool readBody(const QJsonObject &object, QJsonObject *body, QString *error)
{
    const QJsonValue value = object.value(QLatin1String("body"));
    if (value.isUndefined() || value.isNull()) {
        *body = {};
        return true;
    }
    if (!value.isObject()) {
        *error = QStringLiteral("body is not an object");
        return false;
    }
    *body = value.toObject();
    return true;
}

bool readError(const QJsonObject &object, Incoming *incoming, QString *error)
{
    const QJsonValue value = object.value(QLatin1String("error"));
    const QJsonObject details = value.toObject();
    if (!value.isObject() || !details.value(QLatin1String("code")).isString()) {
        *error = QStringLiteral("error is not an object with a code");
        return false;
    }
    incoming->errorCode = details.value(QLatin1String("code")).toString();
    incoming->errorMessage = details.value(QLatin1String("message")).toString();
    return true;
}

} // namespace

std::optional<qint64> integerValue(const QJsonValue &value)
{
    if (!value.isDouble())
        return std::nullopt;
    const qint64 n = value.toInteger(0);
    // toInteger() gives the default for fractions and values out of qint64's range.
    if (n == 0 && value.toDouble() != 0)
        return std::nullopt;
    return n;
}

void LineReader::feed(QByteArrayView data)
{
    if (m_discarding) {  // the rest of a line already reported TooLong
        const qsizetype newline = data.indexOf('\n');
        if (newline < 0)
            return;
        data = data.sliced(newline + 1);
        m_discarding = false;
    }
    if (m_start > 0) {  // drop the lines already handed out, once per feed
        m_buffer.remove(0, m_start);
        m_scanned -= m_start;
        m_start = 0;
    }
    m_buffer.append(data);
}

LineReader::Status LineReader::next(QByteArray *line)
{
    // m_scanned: where the last search stopped, so a long line is not searched again
    // from its start on every feed.
    const qsizetype newline = m_buffer.indexOf('\n', m_scanned);
    if (newline < 0) {
        m_scanned = m_buffer.size();
        if (m_buffer.size() - m_start <= MaxLineBytes)
            return Status::Incomplete;
        m_buffer.clear();
        m_start = m_scanned = 0;
        m_discarding = true;
        return Status::TooLong;
    }
    const qsizetype begin = m_start;
    m_start = m_scanned = newline + 1;
    if (newline - begin > MaxLineBytes)
        return Status::TooLong;  // complete but too long: reported once, nothing to skip
    *line = m_buffer.mid(begin, newline - begin);
    if (m_start == m_buffer.size()) {
        m_buffer.clear();
        m_start = m_scanned = 0;
    }
    return Status::Line;
}

std::optional<Request> parseRequest(QByteArrayView line, QString *error, std::optional<qint64> *id)
{
    id->reset();
    const std::optional<QJsonObject> object = objectOf(line, error);
    if (!object)
        return std::nullopt;
    // The id first, so that every later complaint can be answered with it.
    const QJsonValue idValue = object->value(QLatin1String("id"));
    if (idValue.isUndefined()) {
        *error = QStringLiteral("no id");
        return std::nullopt;
    }
    *id = integerValue(idValue);
    if (!*id) {
        *error = QStringLiteral("id is not an integer");
        return std::nullopt;
    }
    Request request;
    request.id = *id;
    request.type = object->value(QLatin1String("type")).toString();
    if (request.type.isEmpty()) {
        *error = QStringLiteral("no type");
        return std::nullopt;
    }
    if (!readBody(*object, &request.body, error))
        return std::nullopt;
    return request;
}

QByteArray encodeRequest(qint64 id, const QString &type, const QJsonObject &body)
{
    return encodeLine({{QLatin1String("id"), id}, {QLatin1String("type"), type},
                       {QLatin1String("body"), body}});
}

QByteArray encodeReply(qint64 id, const QJsonObject &body)
{
    return encodeLine({{QLatin1String("id"), id}, {QLatin1String("ok"), true},
                       {QLatin1String("body"), body}});
}

QByteArray encodeError(std::optional<qint64> id, const QString &code, const QString &message)
{
    QJsonObject object{{QLatin1String("ok"), false},
                       {QLatin1String("error"), QJsonObject{{QLatin1String("code"), code},
                                                            {QLatin1String("message"), message}}}};
    if (id)
        object.insert(QLatin1String("id"), *id);
    return encodeLine(object);
}

QByteArray encodeEvent(const QString &type, const QJsonObject &body)
{
    return encodeLine({{QLatin1String("type"), type}, {QLatin1String("body"), body}});
}

std::optional<Incoming> parseIncoming(QByteArrayView line, QString *error)
{
    const std::optional<QJsonObject> object = objectOf(line, error);
    if (!object)
        return std::nullopt;
    Incoming incoming;
    const QJsonValue idValue = object->value(QLatin1String("id"));
    const QJsonValue okValue = object->value(QLatin1String("ok"));
    // A reply to a request whose id could not be read has "ok" but no id.
    if (idValue.isUndefined() && okValue.isUndefined()) {
        incoming.type = object->value(QLatin1String("type")).toString();
        if (incoming.type.isEmpty()) {
            *error = QStringLiteral("no type");
            return std::nullopt;
        }
        if (!readBody(*object, &incoming.body, error))
            return std::nullopt;
        return incoming;
    }
    if (!idValue.isUndefined()) {
        incoming.id = integerValue(idValue);
        if (!incoming.id) {
            *error = QStringLiteral("id is not an integer");
            return std::nullopt;
        }
    }
    if (!okValue.isBool()) {
        *error = QStringLiteral("ok is not a boolean");
        return std::nullopt;
    }
    incoming.ok = okValue.toBool();
    if (incoming.ok)
        return readBody(*object, &incoming.body, error) ? std::optional(incoming) : std::nullopt;
    return readError(*object, &incoming, error) ? std::optional(incoming) : std::nullopt;
}

} // namespace ws2api::admin
