#include "modes/OcppFrame.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QJsonValue>
#include <QList>
#include <array>

#include "json/StrictJson.h"

namespace ws2api::ocpp {

namespace {

// Only an integer literal names a message type: 2.0 and 2e0 equal 2, but the field is
// an integer and no OCPP-J sender writes them. `token` is a valid JSON number.
bool isIntegerToken(QByteArrayView token)
{
    return !token.contains('.') && !token.contains('e') && !token.contains('E');
}

QByteArray versionName(Version version)
{
    static constexpr const char *Names[] = {"1.6", "2.0.1", "2.1"};
    return Names[int(version)];
}

QByteArray typeName(MessageType type)
{
    static constexpr const char *Names[] = {"CALL", "CALLRESULT", "CALLERROR", "CALLRESULTERROR", "SEND"};
    return Names[int(type) - int(MessageType::Call)];
}

std::optional<MessageType> knownType(int number, Version version)
{
    switch (number) {
    case 2:
    case 3:
    case 4:
        return MessageType(number);
    case 5:
    case 6:
        if (version == Version::V21)
            return MessageType(number);
        return std::nullopt;
    default:
        return std::nullopt;
    }
}

// Code points, as OCPP counts the 36 "characters" of a MessageId.
qsizetype characterCount(QStringView s)
{
    qsizetype count = 0;
    for (const QChar c : s)
        count += c.isLowSurrogate() ? 0 : 1;
    return count;
}

bool isNonEmptyString(const QJsonValue &value)
{
    return value.isString() && !value.toString().isEmpty();
}

// Empty when the elements fit the type's shape, else why not.
QByteArray fieldProblem(MessageType type, const QJsonArray &array)
{
    const bool isError = type == MessageType::CallError || type == MessageType::CallResultError;
    const qsizetype expected = type == MessageType::CallResult ? 3 : isError ? 5 : 4;
    if (array.size() != expected) {
        return typeName(type) + " needs " + QByteArray::number(expected) + " elements, not "
            + QByteArray::number(array.size());
    }
    if (!array[1].isString())
        return "MessageId is not a string";
    if (array[1].toString().isEmpty())
        return "MessageId is empty";
    if (type == MessageType::CallResult)
        return array[2].isObject() ? QByteArray() : "payload is not a JSON object";
    if (isError) {
        if (!array[2].isString())
            return "errorCode is not a string";
        if (!array[3].isString())
            return "errorDescription is not a string";
        return array[4].isObject() ? QByteArray() : "errorDetails is not a JSON object";
    }
    if (!isNonEmptyString(array[2]))
        return "Action is not a non-empty string";
    return array[3].isObject() ? QByteArray() : "payload is not a JSON object";
}

Frame frameFrom(MessageType type, const QJsonArray &array, const QList<QByteArrayView> &parts)
{
    Frame frame;
    frame.type = type;
    frame.messageId = array[1].toString().toUtf8();
    switch (type) {
    case MessageType::Call:
    case MessageType::Send:
        frame.action = array[2].toString().toUtf8();
        frame.payload = parts[3].toByteArray();
        break;
    case MessageType::CallResult:
        frame.payload = parts[2].toByteArray();
        break;
    case MessageType::CallError:
    case MessageType::CallResultError:
        frame.errorCode = array[2].toString().toUtf8();
        frame.errorDescription = array[3].toString().toUtf8();
        frame.payload = parts[4].toByteArray();
        break;
    }
    return frame;
}

Parsed failed(Parsed parsed, Problem problem, QByteArray detail)
{
    parsed.problem = problem;
    parsed.detail = std::move(detail);
    return parsed;
}

QByteArrayView objectOrEmpty(QByteArrayView payload)
{
    const QByteArrayView trimmed = json::trimmed(payload);
    return trimmed.isEmpty() ? QByteArrayView("{}") : trimmed;
}

struct ErrorSpelling
{
    ErrorKind kind;
    const char *v16;
    const char *v2;
};

// The 2.x names are unique; 1.6 folds RpcFrameworkError and MessageTypeNotSupported into
// older codes, so reading 1.6 names goes through Aliases16 instead.
constexpr std::array<ErrorSpelling, 12> Spellings{{
    {ErrorKind::FormatViolation, "FormationViolation", "FormatViolation"},
    {ErrorKind::GenericError, "GenericError", "GenericError"},
    {ErrorKind::InternalError, "InternalError", "InternalError"},
    {ErrorKind::MessageTypeNotSupported, "NotSupported", "MessageTypeNotSupported"},
    {ErrorKind::NotImplemented, "NotImplemented", "NotImplemented"},
    {ErrorKind::NotSupported, "NotSupported", "NotSupported"},
    {ErrorKind::OccurrenceConstraintViolation, "OccurenceConstraintViolation",
     "OccurrenceConstraintViolation"},
    {ErrorKind::PropertyConstraintViolation, "PropertyConstraintViolation",
     "PropertyConstraintViolation"},
    {ErrorKind::ProtocolError, "ProtocolError", "ProtocolError"},
    {ErrorKind::RpcFrameworkError, "FormationViolation", "RpcFrameworkError"},
    {ErrorKind::SecurityError, "SecurityError", "SecurityError"},
    {ErrorKind::TypeConstraintViolation, "TypeConstraintViolation", "TypeConstraintViolation"},
}};

constexpr std::array<ErrorSpelling, 2> Aliases16{{
    {ErrorKind::FormatViolation, "FormationViolation", nullptr},
    {ErrorKind::OccurrenceConstraintViolation, "OccurenceConstraintViolation", nullptr},
}};

} // namespace

std::optional<Version> versionFromSubprotocol(QStringView subprotocol)
{
    if (subprotocol == u"ocpp1.6")
        return Version::V16;
    if (subprotocol == u"ocpp2.0.1")
        return Version::V201;
    if (subprotocol == u"ocpp2.1")
        return Version::V21;
    return std::nullopt;
}

QString subprotocol(Version version)
{
    return QStringLiteral("ocpp") + QString::fromLatin1(versionName(version));
}

bool isValidMessageId(QByteArrayView utf8)
{
    return !utf8.isEmpty() && characterCount(QString::fromUtf8(utf8)) <= MaxMessageIdLength;
}

Parsed parse(QByteArrayView text, Version version)
{
    Parsed parsed;
    const json::Document doc = json::parse(text);
    if (doc.value.isUndefined())
        return failed(std::move(parsed), Problem::NotJson, "not JSON: " + doc.error);
    if (!doc.value.isArray())
        return failed(std::move(parsed), Problem::NotArray, "not a JSON array");
    const QJsonArray array = doc.value.toArray();
    // Never expected; but payload bytes come from the scanner, so if it ever split an
    // array differently from Qt, refusing the frame beats forwarding the wrong bytes.
    if (array.size() != doc.parts.size())
        return failed(std::move(parsed), Problem::NotJson, "not JSON: elements not delimited");
    if (array.size() >= 2 && isNonEmptyString(array[1]))
        parsed.messageId = array[1].toString().toUtf8();

    if (array.isEmpty())
        return failed(std::move(parsed), Problem::BadFields, "empty array");
    if (!array[0].isDouble() || !isIntegerToken(doc.parts[0]))
        return failed(std::move(parsed), Problem::BadFields, "message type is not an integer");
    bool fits = false;
    const int number = doc.parts[0].toInt(&fits);
    parsed.rawType = fits ? number : -1;
    const std::optional<MessageType> type = knownType(parsed.rawType, version);
    if (!type) {
        // The token itself could be hundreds of digits; the detail stays short.
        const QByteArray shown = fits ? QByteArray::number(number) : QByteArray("out of range");
        return failed(std::move(parsed), Problem::UnknownType,
                      "message type " + shown + " is not supported in OCPP " + versionName(version));
    }
    if (QByteArray why = fieldProblem(*type, array); !why.isEmpty())
        return failed(std::move(parsed), Problem::BadFields, std::move(why));
    if (characterCount(array[1].toString()) > MaxMessageIdLength) {
        return failed(std::move(parsed), Problem::MessageIdTooLong,
                      "MessageId is longer than " + QByteArray::number(MaxMessageIdLength)
                          + " characters");
    }
    parsed.problem = Problem::None;
    parsed.frame = frameFrom(*type, array, doc.parts);
    return parsed;
}

QByteArray serialize(const Frame &frame)
{
    const QByteArrayView payload = objectOrEmpty(frame.payload);
    QByteArray out;
    out.reserve(payload.size() + frame.messageId.size() + frame.action.size()
                + frame.errorCode.size() + frame.errorDescription.size() + 32);
    out += '[';
    out += QByteArray::number(int(frame.type));
    out += ',';
    out += jsonString(frame.messageId);
    switch (frame.type) {
    case MessageType::Call:
    case MessageType::Send:
        out += ',';
        out += jsonString(frame.action);
        break;
    case MessageType::CallError:
    case MessageType::CallResultError:
        out += ',';
        out += jsonString(frame.errorCode);
        out += ',';
        out += jsonString(frame.errorDescription);
        break;
    case MessageType::CallResult:
        break;
    }
    out += ',';
    out += payload;
    out += ']';
    return out;
}

QByteArray call(QByteArrayView messageId, QByteArrayView action, QByteArrayView payload)
{
    return serialize({.type = MessageType::Call,
                      .messageId = messageId.toByteArray(),
                      .action = action.toByteArray(),
                      .payload = payload.toByteArray()});
}

QByteArray callResult(QByteArrayView messageId, QByteArrayView payload)
{
    return serialize({.type = MessageType::CallResult,
                      .messageId = messageId.toByteArray(),
                      .payload = payload.toByteArray()});
}

QByteArray callError(QByteArrayView messageId, QByteArrayView code, QByteArrayView description,
                     QByteArrayView details)
{
    return serialize({.type = MessageType::CallError,
                      .messageId = messageId.toByteArray(),
                      .payload = details.toByteArray(),
                      .errorCode = code.toByteArray(),
                      .errorDescription = description.toByteArray()});
}

QByteArray errorCode(ErrorKind kind, Version version)
{
    for (const ErrorSpelling &spelling : Spellings) {
        if (spelling.kind == kind)
            return version == Version::V16 ? spelling.v16 : spelling.v2;
    }
    Q_UNREACHABLE();
}

std::optional<ErrorKind> errorKind(QByteArrayView code)
{
    for (const ErrorSpelling &spelling : Spellings) {
        if (code == spelling.v2)
            return spelling.kind;
    }
    for (const ErrorSpelling &alias : Aliases16) {
        if (code == alias.v16)
            return alias.kind;
    }
    return std::nullopt;
}

QByteArray normalizeErrorCode(QByteArrayView code, Version version)
{
    const std::optional<ErrorKind> kind = errorKind(code);
    return kind ? errorCode(*kind, version) : code.toByteArray();
}

std::optional<QByteArray> errorReplyFor(const Parsed &parsed, Version version)
{
    switch (parsed.problem) {
    case Problem::None:
        return std::nullopt;
    case Problem::UnknownType:
        if (version == Version::V16)
            return std::nullopt;
        return callError(parsed.messageId, errorCode(ErrorKind::MessageTypeNotSupported, version),
                         parsed.detail, {});
    case Problem::NotJson:
    case Problem::NotArray:
    case Problem::BadFields:
    case Problem::MessageIdTooLong:
        break;
    }
    return callError(parsed.messageId, errorCode(ErrorKind::RpcFrameworkError, version),
                     parsed.detail, {});
}

bool isJsonObject(QByteArrayView text)
{
    return json::isObject(text);
}

bool isJson(QByteArrayView text)
{
    return json::isValue(text);
}

std::optional<ApiError> apiError(QByteArrayView body)
{
    const json::Document doc = json::parse(body);
    if (!doc.value.isObject())
        return std::nullopt;
    const QJsonObject object = doc.value.toObject();
    const QJsonValue code = object.value(u"code");
    const QJsonValue description = object.value(u"description");
    const QJsonValue details = object.value(u"details");
    if (!isNonEmptyString(code))
        return std::nullopt;
    if (!description.isUndefined() && !description.isNull() && !description.isString())
        return std::nullopt;
    if (!details.isUndefined() && !details.isNull() && !details.isObject())
        return std::nullopt;
    ApiError error{code.toString().toUtf8(), description.toString().toUtf8(), "{}"};
    if (details.isObject())
        error.details = json::member(doc.parts, u"details").toByteArray();
    return error;
}

QByteArray jsonString(QByteArrayView utf8)
{
    return json::quoted(utf8);
}

} // namespace ws2api::ocpp
