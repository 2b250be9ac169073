#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QString>
#include <QStringView>
#include <optional>

// The OCPP-J RPC framing (1.6-J, 2.0.1, 2.1): parsing a client's frame, writing frames,
// error-code spellings, and the JSON checks the OCPP mode needs for API bodies.
//
// Payloads pass through byte for byte, validated as strict RFC 8259 JSON
// (json/StrictJson.h). Everything here is a pure function, safe from any thread.
namespace ws2api::ocpp {

enum class Version { V16, V201, V21 };

// "ocpp1.6", "ocpp2.0.1", "ocpp2.1" (exact: RFC 6455 tokens are case-sensitive).
std::optional<Version> versionFromSubprotocol(QStringView subprotocol);
QString subprotocol(Version version);

enum class MessageType { Call = 2, CallResult = 3, CallError = 4, CallResultError = 5, Send = 6 };

struct Frame
{
    MessageType type = MessageType::Call;
    QByteArray messageId;         // decoded JSON string (UTF-8)
    QByteArray action;            // Call, Send
    QByteArray payload;           // raw JSON text: the payload, or an error's details object
    QByteArray errorCode;         // CallError, CallResultError: decoded, spelling as received
    QByteArray errorDescription;  // CallError, CallResultError: decoded

    friend bool operator==(const Frame &, const Frame &) = default;
};

enum class Problem { None, NotJson, NotArray, UnknownType, BadFields, MessageIdTooLong };

constexpr qsizetype MaxMessageIdLength = 36;  // characters (code points)

// 1 to 36 characters (code points, as parse() counts them) of UTF-8: for ids that come
// from elsewhere, such as a push path, so they obey the rule frames do.
bool isValidMessageId(QByteArrayView utf8);

struct Parsed
{
    Problem problem = Problem::NotJson;
    Frame frame;                    // valid when problem == None
    QByteArray messageId = "-1";    // the frame's id when readable (a non-empty string), else "-1"
    int rawType = -1;               // the integer in position 0; -1 when absent or not an int
    QByteArray detail;              // why, for logs and the CALLERROR description; short, no payload
};

// SEND (6) and CALLRESULTERROR (5) exist only in 2.1; elsewhere they are UnknownType.
Parsed parse(QByteArrayView text, Version version);

// Compact frames: strings JSON-escaped, payload/details inserted raw with surrounding
// whitespace trimmed; an empty (or blank) payload is written as {}. The caller has
// checked the payload (isJsonObject) when it came from outside.
QByteArray serialize(const Frame &frame);
QByteArray call(QByteArrayView messageId, QByteArrayView action, QByteArrayView payload);
QByteArray callResult(QByteArrayView messageId, QByteArrayView payload);
QByteArray callError(QByteArrayView messageId, QByteArrayView code, QByteArrayView description,
                     QByteArrayView details);

enum class ErrorKind {
    FormatViolation,
    GenericError,
    InternalError,
    MessageTypeNotSupported,
    NotImplemented,
    NotSupported,
    OccurrenceConstraintViolation,
    PropertyConstraintViolation,
    ProtocolError,
    RpcFrameworkError,
    SecurityError,
    TypeConstraintViolation,
};

// The version's spelling. 1.6 writes FormationViolation and OccurenceConstraintViolation,
// and lacks RpcFrameworkError (-> FormationViolation) and MessageTypeNotSupported
// (-> NotSupported).
QByteArray errorCode(ErrorKind kind, Version version);
// Any version's spelling (case-sensitive); nullopt for codes outside the OCPP lists.
std::optional<ErrorKind> errorKind(QByteArrayView code);
// Any version's spelling -> this version's; unknown codes (Timeout, ...) unchanged.
QByteArray normalizeErrorCode(QByteArrayView code, Version version);

// The CALLERROR that answers a malformed frame: 1.6 FormationViolation, 2.x
// RpcFrameworkError; an unknown type gets MessageTypeNotSupported in 2.x and nothing in
// 1.6 (the caller logs and counts it). nullopt for Problem::None. The description is
// `parsed.detail`, the id `parsed.messageId`.
std::optional<QByteArray> errorReplyFor(const Parsed &parsed, Version version);

// Exactly one JSON value (object / any), surrounding JSON whitespace allowed.
bool isJsonObject(QByteArrayView text);
bool isJson(QByteArrayView text);

// The API's error body {"code","description","details"}: code a non-empty string,
// description a string (default ""), details an object kept raw (default {}); absent
// and null are the same. nullopt for anything else.
struct ApiError
{
    QByteArray code;
    QByteArray description;
    QByteArray details;
};
std::optional<ApiError> apiError(QByteArrayView body);

// `utf8` as a JSON string literal with quotes; invalid UTF-8 becomes U+FFFD so the
// result is always valid JSON.
QByteArray jsonString(QByteArrayView utf8);

} // namespace ws2api::ocpp
