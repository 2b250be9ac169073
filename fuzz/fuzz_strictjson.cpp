// json::parse, the strict RFC 8259 check every payload passes before it is forwarded
// byte for byte: what it accepts Qt accepts too, a container's parts are each one
// valid value, and quoted() always makes a string that reads back as the input.
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include "FuzzSupport.h"
#include "json/StrictJson.h"

using namespace ws2api;
using fuzz::require;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *bytes, size_t size)
{
    const QByteArrayView text = fuzz::input(bytes, size);
    const json::Document doc = json::parse(text);
    require(doc.value.isUndefined() != doc.error.isEmpty(), "a value or an error");
    require(json::trimmed(json::trimmed(text)) == json::trimmed(text), "trimmed() is idempotent");
    if (!doc.value.isUndefined()) {
        const QByteArray wrapped = '[' + text.toByteArray() + ']';
        require(QJsonDocument::fromJson(wrapped).array().size() == 1, "Qt reads it too");
        if (doc.value.isArray())
            require(doc.parts.size() == doc.value.toArray().size(), "one part per element");
        if (doc.value.isObject()) {
            require(doc.parts.size() % 2 == 0, "keys and values");
            for (qsizetype i = 0; i + 1 < doc.parts.size(); i += 2)
                require(doc.value.toObject().contains(json::decodeString(doc.parts[i])), "a key");
        }
        for (const QByteArrayView part : doc.parts)
            require(json::isValue(part), "each part is one value", {}, part.toByteArray());
    }
    const QByteArray quoted = json::quoted(text);
    const json::Document string = json::parse(quoted);
    require(string.value.isString() && string.value.toString() == QString::fromUtf8(text),
            "quoted() reads back", text.toByteArray(), quoted);
    return 0;
}
