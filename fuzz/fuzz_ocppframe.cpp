// ocpp::parse, what the OCPP mode reads each text message of a station with, in each
// version; a valid frame must survive serialize() and parse() unchanged, and every
// CALLERROR the gateway answers with must itself be a valid frame (but for an over-long
// MessageId, echoed as received). The input is also read as an API error body.
#include "FuzzSupport.h"
#include "modes/OcppFrame.h"

using namespace ws2api;
using fuzz::require;

namespace {

QByteArray describe(const ocpp::Frame &f)
{
    return QByteArray::number(int(f.type)) + " id=" + f.messageId + " action=" + f.action
        + " code=" + f.errorCode + " description=" + f.errorDescription + " payload=" + f.payload;
}

void check(QByteArrayView text, ocpp::Version version)
{
    const ocpp::Parsed parsed = ocpp::parse(text, version);
    require(parsed.detail.size() < 200, "the detail stays short", {}, parsed.detail);
    if (parsed.problem == ocpp::Problem::None) {
        require(ocpp::isValidMessageId(parsed.frame.messageId), "a valid MessageId");
        require(ocpp::isJsonObject(parsed.frame.payload), "the payload is an object", {},
                parsed.frame.payload);
        const ocpp::Parsed again = ocpp::parse(ocpp::serialize(parsed.frame), version);
        require(again.problem == ocpp::Problem::None && again.frame == parsed.frame,
                "serialize() and parse() give the frame back", describe(parsed.frame),
                describe(again.frame));
        return;
    }
    if (const std::optional<QByteArray> reply = ocpp::errorReplyFor(parsed, version)) {
        const ocpp::Parsed answer = ocpp::parse(*reply, version);
        // An over-long id is echoed back on purpose, so the station can match the
        // answer; it is the one thing a strict reader would flag.
        const ocpp::Problem expected = ocpp::isValidMessageId(parsed.messageId)
            ? ocpp::Problem::None
            : ocpp::Problem::MessageIdTooLong;
        require(answer.problem == expected
                    && (expected != ocpp::Problem::None
                        || (answer.frame.type == ocpp::MessageType::CallError
                            && answer.frame.messageId == parsed.messageId)),
                "the CALLERROR reply is a valid frame", *reply, answer.detail);
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *bytes, size_t size)
{
    const QByteArrayView text = fuzz::input(bytes, size);
    for (const ocpp::Version version : {ocpp::Version::V16, ocpp::Version::V201, ocpp::Version::V21})
        check(text, version);
    if (const std::optional<ocpp::ApiError> error = ocpp::apiError(text)) {
        require(!error->code.isEmpty() && ocpp::isJsonObject(error->details), "an API error",
                {}, error->details);
    }
    ocpp::isValidMessageId(text);
    return 0;
}
