#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QJsonValue>
#include <QList>
#include <QString>
#include <QStringView>

// Strict RFC 8259 JSON for text that is passed on byte for byte (OCPP payloads, the
// API's bodies). QJsonDocument would turn 12345678901234567890 into a double and 1.0
// into 1, so it only validates; the bytes of each element come from a scanner over
// the original text. Qt 6.4's parser alone accepts "1.", ".5", "\x" and raw control
// characters in strings, which a charger or the API's JSON decoder would reject after
// we passed them on. Pure functions, safe from any thread.
namespace ws2api::json {

// One strictly validated JSON value (surrounding JSON whitespace allowed); `value` is
// undefined on error, with `error` saying why (short, no payload). For a container,
// `parts` are its elements (an object's keys and values alternately) as trimmed spans
// of the caller's text, which must outlive them.
struct Document
{
    QJsonValue value = QJsonValue::Undefined;
    QList<QByteArrayView> parts;
    QByteArray error;
};
Document parse(QByteArrayView text);

bool isObject(QByteArrayView text);
bool isValue(QByteArrayView text);

// Without JSON whitespace (SP, HT, LF, CR) at either end; QByteArrayView::trimmed()
// also strips \v and \f.
QByteArrayView trimmed(QByteArrayView text);

// A string token of a parsed document (quotes included) as text.
QString decodeString(QByteArrayView token);
// The raw value of `key` in an object's parts; the last one wins, as in QJsonObject.
QByteArrayView member(const QList<QByteArrayView> &parts, QStringView key);

// `utf8` as a string literal with quotes; invalid UTF-8 becomes U+FFFD, so the result
// is always valid JSON.
QByteArray quoted(QByteArrayView utf8);

} // namespace ws2api::json
