#include "PushPanel.h"

#include <QCompleter>
#include <QFontDatabase>
#include <QFormLayout>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPointer>
#include <QPushButton>
#include <QStringListModel>
#include <QUuid>
#include <algorithm>
#include <utility>

#include "AdminClient.h"
#include "ClientIdOrder.h"

namespace ws2api::gui {

namespace {

// Long enough to let a typist finish a word, short enough to feel immediate.
constexpr int CompletionDelayMs = 150;

QString errorStyle()
{
    return QStringLiteral("color: #c62828;");
}

} // namespace

PushPanel::PushPanel(AdminClient *client, QWidget *parent)
    : QWidget(parent)
    , m_client(client)
{
    buildForm();
    m_completionTimer.setSingleShot(true);
    m_completionTimer.setInterval(CompletionDelayMs);
    connect(&m_completionTimer, &QTimer::timeout, this, &PushPanel::queryCompletions);
    connect(m_clientId, &QLineEdit::textEdited, &m_completionTimer, qOverload<>(&QTimer::start));
    connect(m_send, &QPushButton::clicked, this, &PushPanel::send);
    connect(m_client, &AdminClient::connected, this, [this](const QJsonObject &hello) {
        setOcppMode(hello.value(QStringLiteral("mode")).toString() == QLatin1String("ocpp"));
        updateSendButton();
    });
    connect(m_client, &AdminClient::disconnected, this, [this] {
        m_completions->setStringList({});
        // A push in flight has just been told "disconnected" (before this signal).
        if (!std::exchange(m_outcomeCutShort, false))
            clearOutcome();
        updateSendButton();
    });
    setOcppMode(false);
    updateSendButton();
}

void PushPanel::updateSendButton()
{
    // A disabled focus widget hands the focus on, and it would land in the socket field
    // with its text selected, for the next key to overwrite: so the button is not
    // disabled while a push is on its way, and when the daemon goes the focus stays here.
    const bool connected = m_client->isConnected();
    if (!connected && window()->focusWidget() == m_send)
        (m_ocpp ? static_cast<QWidget *>(m_payload) : m_message)->setFocus();
    m_send->setEnabled(connected);
    m_send->setToolTip(connected ? QString() : tr("Not connected to the daemon"));
}

void PushPanel::buildForm()
{
    m_form = new QFormLayout(this);
    m_clientId = new QLineEdit(this);
    m_clientId->setObjectName(QStringLiteral("clientIdEdit"));
    m_clientId->setPlaceholderText(tr("a connected ClientId"));
    m_clientId->setClearButtonEnabled(true);
    m_completions = new QStringListModel(this);
    m_completer = new QCompleter(m_completions, this);
    // The daemon matches substrings; the popup must not hide what it sent.
    m_completer->setFilterMode(Qt::MatchContains);
    m_completer->setCaseSensitivity(Qt::CaseInsensitive);
    m_clientId->setCompleter(m_completer);

    const QFont fixed = QFontDatabase::systemFont(QFontDatabase::FixedFont);
    m_message = new QPlainTextEdit(this);
    m_message->setObjectName(QStringLiteral("messageEdit"));
    m_message->setPlaceholderText(tr("text sent to the client as is"));
    m_action = new QLineEdit(this);
    m_action->setObjectName(QStringLiteral("actionEdit"));
    m_action->setPlaceholderText(tr("e.g. Reset"));
    m_messageId = new QLineEdit(this);
    m_messageId->setObjectName(QStringLiteral("messageIdEdit"));
    m_messageId->setPlaceholderText(tr("optional; generated when empty"));
    m_messageId->setMaxLength(36);  // OCPP's limit; the daemon refuses longer ones
    m_payload = new QPlainTextEdit(QStringLiteral("{}"), this);
    m_payload->setObjectName(QStringLiteral("payloadEdit"));
    m_payload->setFont(fixed);
    m_inputError = new QLabel(this);
    m_inputError->setObjectName(QStringLiteral("inputError"));
    m_inputError->setWordWrap(true);
    m_inputError->setStyleSheet(errorStyle());
    m_inputError->hide();
    m_send = new QPushButton(tr("Send push"), this);
    m_send->setObjectName(QStringLiteral("sendButton"));
    m_outcome = new QLabel(this);
    m_outcome->setObjectName(QStringLiteral("outcomeLabel"));
    m_outcome->setWordWrap(true);
    m_outcome->setTextInteractionFlags(Qt::TextSelectableByMouse);

    m_form->addRow(tr("ClientId"), m_clientId);
    m_form->addRow(tr("Message"), m_message);
    m_form->addRow(tr("Action"), m_action);
    m_form->addRow(tr("Message id"), m_messageId);
    m_form->addRow(tr("Payload"), m_payload);
    m_form->addRow(m_inputError);
    m_form->addRow(m_send);
    m_form->addRow(m_outcome);
}

void PushPanel::setOcppMode(bool ocpp)
{
    m_ocpp = ocpp;
    m_form->setRowVisible(m_message, !ocpp);
    m_form->setRowVisible(m_action, ocpp);
    m_form->setRowVisible(m_messageId, ocpp);
    m_form->setRowVisible(m_payload, ocpp);
    m_inputError->hide();
}

void PushPanel::setClientId(const QString &clientId)
{
    m_clientId->setText(clientId);
}

bool PushPanel::buildBody(QJsonObject *body)
{
    const QString clientId = m_clientId->text().trimmed();
    if (clientId.isEmpty()) {
        showInputError(tr("Enter the ClientId to push to."));
        return false;
    }
    body->insert(QStringLiteral("clientId"), clientId);
    if (!m_ocpp) {
        // The daemon refuses empty text pushes; say so before asking it.
        if (m_message->toPlainText().isEmpty()) {
            showInputError(tr("Enter the message to send."));
            return false;
        }
        body->insert(QStringLiteral("message"), m_message->toPlainText());
        return true;
    }
    if (m_action->text().trimmed().isEmpty()) {
        showInputError(tr("Enter the OCPP Action, e.g. Reset."));
        return false;
    }
    QJsonParseError parseError;
    const QJsonDocument payload = QJsonDocument::fromJson(m_payload->toPlainText().toUtf8(), &parseError);
    if (parseError.error != QJsonParseError::NoError) {
        showInputError(tr("The payload is not JSON: %1 at offset %2.")
                           .arg(parseError.errorString()).arg(parseError.offset));
        return false;
    }
    if (!payload.isObject()) {
        showInputError(tr("The payload must be a JSON object ({…})."));
        return false;
    }
    body->insert(QStringLiteral("action"), m_action->text().trimmed());
    body->insert(QStringLiteral("payload"), payload.object());
    // Made here, not by the daemon, whose reply would not say which it made; a UUID's
    // 36 characters are the most OCPP allows.
    const QString typedId = m_messageId->text().trimmed();
    body->insert(QStringLiteral("messageId"),
                 typedId.isEmpty() ? QUuid::createUuid().toString(QUuid::WithoutBraces) : typedId);
    return true;
}

void PushPanel::send()
{
    QJsonObject body;
    if (m_sending || !buildBody(&body))
        return;
    m_inputError->hide();
    m_sending = true;
    m_outcome->setStyleSheet({});
    m_outcome->setText(tr("Sending to %1…").arg(body.value(QStringLiteral("clientId")).toString()));
    QPointer<PushPanel> self(this);
    m_client->request(QStringLiteral("push"), body, [self, body](const admin::Incoming &reply) {
        if (!self)
            return;
        self->m_sending = false;
        if (!reply.ok)
            self->showOutcome(false, tr("Error %1: %2").arg(reply.errorCode, reply.errorMessage));
        else
            self->showOutcome(true, self->successText(body, reply.body));
        self->m_outcomeCutShort = !reply.ok && reply.errorCode == QLatin1String("disconnected");
    });
}

QString PushPanel::successText(const QJsonObject &sent, const QJsonObject &reply) const
{
    const QString clientId = sent.value(QStringLiteral("clientId")).toString();
    const QString status = reply.value(QStringLiteral("status")).toVariant().toString();
    QString text = tr("Sent to %1 (status %2)").arg(clientId, status);
    if (sent.contains(QStringLiteral("action"))) {
        // A daemon that reports the MessageId it used has the last word.
        const QString messageId = reply.value(QStringLiteral("messageId"))
                                      .toString(sent.value(QStringLiteral("messageId")).toString());
        text = tr("%1 sent to %2 (status %3) with MessageId %4")
                   .arg(sent.value(QStringLiteral("action")).toString(), clientId, status, messageId);
    }
    const QString message = reply.value(QStringLiteral("message")).toVariant().toString();
    return message.isEmpty() ? text : tr("%1: %2").arg(text, message);
}

void PushPanel::showOutcome(bool ok, const QString &text)
{
    m_outcome->setStyleSheet(ok ? QString() : errorStyle());
    m_outcome->setText(text);
    Q_EMIT pushFinished(ok, text);
}

void PushPanel::clearOutcome()
{
    m_outcomeCutShort = false;
    m_outcome->setStyleSheet({});
    m_outcome->clear();
}

void PushPanel::showInputError(const QString &text)
{
    m_inputError->setText(text);
    m_inputError->show();
}

void PushPanel::queryCompletions()
{
    const QString typed = m_clientId->text().trimmed();
    if (typed.isEmpty() || !m_client->isConnected())
        return;
    const QJsonObject body{{QStringLiteral("filter"), typed},
                           {QStringLiteral("offset"), 0},
                           {QStringLiteral("limit"), CompletionLimit}};
    QPointer<PushPanel> self(this);
    m_client->request(QStringLiteral("connections"), body, [self, typed](const admin::Incoming &reply) {
        // A reply for something no longer typed would pop up stale suggestions.
        if (!self || !reply.ok || self->m_clientId->text().trimmed() != typed)
            return;
        QStringList ids;
        const QJsonArray items = reply.body.value(QStringLiteral("items")).toArray();
        for (const QJsonValue &item : items)
            ids << item.toObject().value(QStringLiteral("clientId")).toString();
        // A daemon of this version sends them in this order already; an older one did not.
        std::sort(ids.begin(), ids.end(), [](const QString &a, const QString &b) {
            return admin::clientIdLess(a.toUtf8(), b.toUtf8());
        });
        self->m_completions->setStringList(ids);
        if (self->m_clientId->hasFocus()) {
            self->m_completer->setCompletionPrefix(typed);
            self->m_completer->complete();
        }
    });
}

} // namespace ws2api::gui
