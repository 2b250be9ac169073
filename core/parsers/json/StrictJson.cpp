#include "StrictJson.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QJsonParseError>

namespace ws2api::json {

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
            const QByteArrayView last = trimmed(json.sliced(start, i - start));
            // "[]" and "{}" have no elements; anywhere else Qt rejected empty ones.
            if (!(last.isEmpty() && result.parts.isEmpty()))
                result.parts.append(last);
        } else if ((c == ',' || c == ':') && depth == 1) {
            result.parts.append(trimmed(json.sliced(start, i - start)));
            start = i + 1;
        }
    }
    return result;
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

} // namespace

QByteArrayView trimmed(QByteArrayView s)
{
    while (!s.isEmpty() && isJsonSpace(s.front()))
        s = s.sliced(1);
    while (!s.isEmpty() && isJsonSpace(s.back()))
        s.chop(1);
    return s;
}

Document parse(QByteArrayView text)
{
    Document doc;
    const QByteArrayView value = trimmed(text);
    if (value.isEmpty()) {
        doc.error = "empty";
        return doc;
    }
    // Qt 6.4 parses only an array or object at the top level, so a scalar is parsed
    // as the single element of an array. A BOM also lands here and is rejected there,
    // where Qt would have skipped it at the start.
    const bool container = value.front() == '[' || value.front() == '{';
    const QByteArray source = container
        ? QByteArray::fromRawData(value.data(), value.size())
        : QByteArray("[") + value.toByteArray() + ']';
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

bool isObject(QByteArrayView text)
{
    return parse(text).value.isObject();
}

bool isValue(QByteArrayView text)
{
    return !parse(text).value.isUndefined();
}

// Escape-free strings, nearly all keys, skip Qt.
QString decodeString(QByteArrayView token)
{
    const QByteArrayView inner = token.sliced(1, token.size() - 2);
    if (!inner.contains('\\'))
        return QString::fromUtf8(inner);
    const QByteArray wrapped = QByteArray("[") + token.toByteArray() + ']';
    return QJsonDocument::fromJson(wrapped).array().first().toString();
}

QByteArrayView member(const QList<QByteArrayView> &parts, QStringView key)
{
    QByteArrayView found;
    for (qsizetype i = 0; i + 1 < parts.size(); i += 2) {
        if (decodeString(parts[i]) == key)
            found = parts[i + 1];
    }
    return found;
}

QByteArray quoted(QByteArrayView utf8)
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

} // namespace ws2api::json
