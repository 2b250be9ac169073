#include "modes/OcppFrame.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QJsonParseError>
#include <QJsonValue>
#include <QList>
#include <array>

namespace ws2api::ocpp {

namespace {

bool isJsonSpace(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

bool isDigit(char c)
{
    return c >= '0' && c <= '9';
}

bool isHexDigit(char c)
{
    return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// QByteArrayView::trimmed() also strips \v and \f, which are not JSON whitespace.
QByteArrayView jsonTrimmed(QByteArrayView s)
{
    while (!s.isEmpty() && isJsonSpace(s.front()))
        s = s.sliced(1);
    while (!s.isEmpty() && isJsonSpace(s.back()))
        s.chop(1);
    return s;
}

qsizetype digitsFrom(QByteArrayView s, qsizetype i)
{
    while (i < s.size() && isDigit(s[i]))
        ++i;
    return i;
}

// RFC 8259 number grammar; Qt also takes "1.", ".5" and "1.e3".
bool isJsonNumber(QByteArrayView s)
{
    qsizetype i = 0;
    if (i < s.size() && s[i] == '-')
        ++i;
    if (i < s.size() && s[i] == '0')
        ++i;
    else if (const qsizetype end = digitsFrom(s, i); end > i)
        i = end;
    else
        return false;
    if (i < s.size() && s[i] == '.') {
        const qsizetype end = digitsFrom(s, i + 1);
        if (end == i + 1)
            return false;
        i = end;
    }
    if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
        ++i;
        if (i < s.size() && (s[i] == '+' || s[i] == '-'))
            ++i;
        const qsizetype end = digitsFrom(s, i);
        if (end == i)
            return false;
        i = end;
    }
    return i == s.size();
}

// Only an integer literal names a message type: 2.0 and 2e0 equal 2, but the field is
// an integer and no OCPP-J sender writes them. `token` is a valid JSON number.
bool isIntegerToken(QByteArrayView token)
{
    return !token.contains('.') && !token.contains('e') && !token.contains('E');
}

bool isNumberChar(char c)
{
    return isDigit(c) || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E';
}

// Index of the quote closing the string that opens at `open`, or -1 with *error set.
// Qt accepts raw control characters and unknown escapes such as \x; RFC 8259 does not.
qsizetype stringEnd(QByteArrayView json, qsizetype open, QByteArray *error)
{
    for (qsizetype i = open + 1; i < json.size(); ++i) {
        const char c = json[i];
        if (c == '"')
            return i;
        if (static_cast<unsigned char>(c) < 0x20) {
            *error = "control character in a string at offset " + QByteArray::number(i);
            return -1;
        }
        if (c != '\\')
            continue;
        const char escaped = i + 1 < json.size() ? json[i + 1] : '\0';
        if (escaped == 'u') {
            for (qsizetype k = i + 2; k < i + 6; ++k) {
                if (k >= json.size() || !isHexDigit(json[k])) {
                    *error = "invalid \\u escape at offset " + QByteArray::number(i);
                    return -1;
                }
            }
            i += 5;
        } else if (escaped != '\0' && QByteArrayView("\"\\/bfnrt").contains(escaped)) {
            ++i;
        } else {
            *error = "invalid escape at offset " + QByteArray::number(i);
            return -1;
        }
    }
    *error = "unterminated string";
    return -1;
}

// What the scanner found: the outer container's elements (for an object: keys and
// values alternately) as byte spans into the scanned text, trimmed.
struct Scan
{
    QList<QByteArrayView> parts;
    QByteArray error;
};

// Walks text Qt's parser has accepted (so brackets balance) and does what Qt leaves
// undone: the strict lexical rules and the raw span of each top-level element.
Scan scan(QByteArrayView json)
{
    Scan result;
    int depth = 0;
    qsizetype start = 0;
    for (qsizetype i = 0; i < json.size(); ++i) {
        const char c = json[i];
        if (c == '"') {
            i = stringEnd(json, i, &result.error);
            if (i < 0)
                return result;
        } else if (c == '-' || c == '.' || isDigit(c)) {
            qsizetype end = i;
            while (end < json.size() && isNumberChar(json[end]))
                ++end;
            if (!isJsonNumber(json.sliced(i, end - i))) {
                result.error = "invalid number at offset " + QByteArray::number(i);
                return result;
            }
            i = end - 1;
        } else if (c == '[' || c == '{') {
            if (++depth == 1)
                start = i + 1;
        } else if ((c == ']' || c == '}') && --depth == 0) {
            const QByteArrayView last = jsonTrimmed(json.sliced(start, i - start));
            // "[]" and "{}" have no elements; anywhere else Qt rejected empty ones.
            if (!(last.isEmpty() && result.parts.isEmpty()))
                result.parts.append(last);
        } else if ((c == ',' || c == ':') && depth == 1) {
            result.parts.append(jsonTrimmed(json.sliced(start, i - start)));
            start = i + 1;
        }
    }
    return result;
}

// One strictly validated JSON value; `value` is undefined on error. `parts` (the
// scanner's spans) point into the caller's text and are set only for a container.
struct Document
{
    QJsonValue value = QJsonValue::Undefined;
    QList<QByteArrayView> parts;
    QByteArray error;
};

Document parseStrict(QByteArrayView text)
{
    Document doc;
    const QByteArrayView trimmed = jsonTrimmed(text);
    if (trimmed.isEmpty()) {
        doc.error = "empty";
        return doc;
    }
    // Qt 6.4 parses only an array or object at the top level, so a scalar is parsed
    // as the single element of an array. A BOM also lands here and is rejected there,
    // where Qt would have skipped it at the start.
    const bool container = trimmed.front() == '[' || trimmed.front() == '{';
    const QByteArray source = container
        ? QByteArray::fromRawData(trimmed.data(), trimmed.size())
        : QByteArray("[") + trimmed.toByteArray() + ']';
    QJsonParseError error;
    const QJsonDocument parsed = QJsonDocument::fromJson(source, &error);
    if (error.error != QJsonParseError::NoError) {
        const int offset = container ? error.offset : qMax(0, error.offset - 1);
        doc.error = error.errorString().toUtf8() + " at offset " + QByteArray::number(offset);
        return doc;
    }
    Scan scanned = scan(source);
    if (!scanned.error.isEmpty()) {
        doc.error = scanned.error;
        return doc;
    }
    if (!container) {
        if (parsed.array().size() != 1)
            doc.error = "more than one JSON value";
        else
            doc.value = parsed.array().first();
        return doc;
    }
    doc.value = parsed.isArray() ? QJsonValue(parsed.array()) : QJsonValue(parsed.object());
    doc.parts = std::move(scanned.parts);
    return doc;
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
    const QByteArrayView trimmed = jsonTrimmed(payload);
    return trimmed.isEmpty() ? QByteArrayView("{}") : trimmed;
}

// A JSON string token (with quotes) as text. Escape-free ones, nearly all keys, skip Qt.
QString decodeString(QByteArrayView token)
{
    const QByteArrayView inner = token.sliced(1, token.size() - 2);
    if (!inner.contains('\\'))
        return QString::fromUtf8(inner);
    const QByteArray wrapped = QByteArray("[") + token.toByteArray() + ']';
    return QJsonDocument::fromJson(wrapped).array().first().toString();
}

// The raw value of `key` in a scanned object; the last one wins, as in QJsonObject.
QByteArrayView rawMember(const QList<QByteArrayView> &parts, QStringView key)
{
    QByteArrayView found;
    for (qsizetype i = 0; i + 1 < parts.size(); i += 2) {
        if (decodeString(parts[i]) == key)
            found = parts[i + 1];
    }
    return found;
}

// The two-character escapes RFC 8259 offers; other control characters get \u00XX.
const char *shortEscape(char c)
{
    switch (c) {
    case '"': return "\\\"";
    case '\\': return "\\\\";
    case '\b': return "\\b";
    case '\f': return "\\f";
    case '\n': return "\\n";
    case '\r': return "\\r";
    case '\t': return "\\t";
    default: return nullptr;
    }
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
    const Document doc = parseStrict(text);
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
    return parseStrict(text).value.isObject();
}

bool isJson(QByteArrayView text)
{
    return !parseStrict(text).value.isUndefined();
}

std::optional<ApiError> apiError(QByteArrayView body)
{
    const Document doc = parseStrict(body);
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
        error.details = rawMember(doc.parts, u"details").toByteArray();
    return error;
}

QByteArray jsonString(QByteArrayView utf8)
{
    static constexpr char Hex[] = "0123456789abcdef";
    const QByteArray valid = utf8.isValidUtf8()
        ? QByteArray::fromRawData(utf8.data(), utf8.size())
        : QString::fromUtf8(utf8).toUtf8();
    QByteArray out;
    out.reserve(valid.size() + 2);
    out += '"';
    for (const char c : valid) {
        if (const char *escape = shortEscape(c)) {
            out += escape;
        } else if (static_cast<unsigned char>(c) < 0x20) {
            out += "\\u00";
            out += Hex[(c >> 4) & 0xf];
            out += Hex[c & 0xf];
        } else {
            out += c;
        }
    }
    out += '"';
    return out;
}

} // namespace ws2api::ocpp
