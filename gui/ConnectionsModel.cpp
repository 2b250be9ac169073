#include "ConnectionsModel.h"

#include <QBrush>
#include <QJsonArray>
#include <QLocale>
#include <QLoggingCategory>
#include <QPalette>
#include <QPointer>

#include "AdminClient.h"

Q_LOGGING_CATEGORY(lcConnections, "ws2api.gui.connections", QtInfoMsg)

namespace ws2api::gui {

namespace {

constexpr int DefaultRefreshMs = 2000;

QString ago(const QDateTime &when)
{
    if (!when.isValid())
        return {};
    const qint64 s = std::max<qint64>(0, when.secsTo(QDateTime::currentDateTimeUtc()));
    if (s < 60)
        return ConnectionsModel::tr("%1 s ago").arg(s);
    if (s < 3600)
        return ConnectionsModel::tr("%1 min ago").arg(s / 60);
    if (s < 86400)
        return ConnectionsModel::tr("%1 h ago").arg(s / 3600);
    return ConnectionsModel::tr("%1 d ago").arg(s / 86400);
}

QDateTime isoTime(const QJsonValue &value)
{
    return QDateTime::fromString(value.toString(), Qt::ISODateWithMs);
}

} // namespace

ConnectionsModel::ConnectionsModel(AdminClient *client, QObject *parent)
    : QAbstractTableModel(parent)
    , m_client(client)
{
    m_fetchTimer.setSingleShot(true);
    m_fetchTimer.setInterval(0);
    connect(&m_fetchTimer, &QTimer::timeout, this, &ConnectionsModel::fetchWanted);
    m_refreshTimer.setInterval(DefaultRefreshMs);
    connect(&m_refreshTimer, &QTimer::timeout, this, &ConnectionsModel::refresh);
    m_refreshTimer.start();
    connect(m_client, &AdminClient::connected, this, &ConnectionsModel::reload);
    connect(m_client, &AdminClient::disconnected, this, &ConnectionsModel::clear);
    if (m_client->isConnected())
        reload();
}

int ConnectionsModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : m_total;
}

int ConnectionsModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

const ConnectionsModel::Row *ConnectionsModel::rowAt(int row) const
{
    const int page = row / PageSize;
    const auto it = m_pages.constFind(page);
    if (it == m_pages.cend()) {
        if (m_wanted.isEmpty())
            m_fetchTimer.start();
        m_wanted.insert(page);
        return nullptr;
    }
    m_touched.insert(page);
    m_lastUse[page] = ++m_useClock;
    const int inPage = row - page * PageSize;
    // A short page (the total grew since it came) is completed by the next refresh.
    return inPage < it->size() ? &it->at(inPage) : nullptr;
}

QVariant ConnectionsModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.row() >= m_total)
        return {};
    const Row *row = rowAt(index.row());
    switch (role) {
    case Qt::DisplayRole:
        if (!row)
            return index.column() == ClientId ? tr("loading…") : QVariant();
        return displayText(*row, index.column());
    case Qt::ToolTipRole:
        if (row && index.column() == ConnectedSince)
            return row->connectedAt.toLocalTime().toString(Qt::ISODateWithMs);
        if (row && index.column() == LastActivity)
            return row->lastActivity.toLocalTime().toString(Qt::ISODateWithMs);
        return {};
    case Qt::TextAlignmentRole:
        if (index.column() == MessagesIn || index.column() == MessagesOut)
            return QVariant::fromValue(Qt::AlignRight | Qt::AlignVCenter);
        return {};
    case Qt::ForegroundRole:
        return row ? QVariant() : QVariant(QBrush(QPalette().color(QPalette::PlaceholderText)));
    default:
        return {};
    }
}

QVariant ConnectionsModel::displayText(const Row &row, int column) const
{
    const QLocale locale;
    switch (column) {
    case ClientId: return row.clientId;
    case Remote: return row.remote;
    case Protocol: return row.protocol.isEmpty() ? tr("—") : row.protocol;
    case ConnectedSince:
        return locale.toString(row.connectedAt.toLocalTime(), QStringLiteral("yyyy-MM-dd HH:mm:ss"));
    case MessagesIn: return locale.toString(row.messagesIn);
    case MessagesOut: return locale.toString(row.messagesOut);
    case LastActivity: return ago(row.lastActivity);
    default: return {};
    }
}

QVariant ConnectionsModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (role != Qt::DisplayRole)
        return {};
    if (orientation == Qt::Vertical)
        return section + 1;
    static const QStringList titles = {tr("ClientId"), tr("Remote"), tr("Protocol"), tr("Connected since"),
                                       tr("Msgs in"), tr("Msgs out"), tr("Last activity")};
    return titles.value(section);
}

void ConnectionsModel::setFilter(const QString &filter)
{
    if (filter == m_filter)
        return;
    m_filter = filter;
    reload();
}

QString ConnectionsModel::clientIdAt(int row) const
{
    const auto it = m_pages.constFind(row / PageSize);
    if (it == m_pages.cend() || row < 0)
        return {};
    const int inPage = row % PageSize;
    return inPage < it->size() ? it->at(inPage).clientId : QString();
}

bool ConnectionsModel::isLoaded(int row) const
{
    return !clientIdAt(row).isNull();
}

void ConnectionsModel::reload()
{
    ++m_generation;
    m_pages.clear();
    m_lastUse.clear();
    m_inFlight.clear();
    m_wanted.clear();
    // Page 0 always: with no rows the view paints nothing and would never ask.
    requestPage(0);
    if (m_total > 0)
        Q_EMIT dataChanged(index(0, 0), index(m_total - 1, ColumnCount - 1));
}

void ConnectionsModel::clear()
{
    ++m_generation;
    m_inFlight.clear();
    m_wanted.clear();
    m_touched.clear();
    m_visible.clear();
    m_lastUse.clear();
    const bool hadRows = m_total > 0;
    beginResetModel();
    m_pages.clear();
    m_total = 0;
    endResetModel();
    if (hadRows)
        Q_EMIT totalChanged(0);
}

void ConnectionsModel::fetchWanted()
{
    QSet<int> pages;
    for (int page : std::as_const(m_wanted)) {
        // One page either side, so that scrolling by a screen shows rows at once.
        pages << page << page - 1 << page + 1;
    }
    m_wanted.clear();
    for (int page : std::as_const(pages)) {
        if (page >= 0 && page * PageSize < m_total && !m_pages.contains(page))
            requestPage(page);
    }
}

void ConnectionsModel::refresh()
{
    if (!m_touched.isEmpty())
        m_visible = std::exchange(m_touched, {});
    if (m_visible.isEmpty() || m_total == 0) {
        requestPage(0);  // keeps the total fresh while nothing is shown
        return;
    }
    for (int page : std::as_const(m_visible)) {
        if (page * PageSize < m_total)
            requestPage(page);
    }
}

void ConnectionsModel::requestPage(int page)
{
    if (m_inFlight.contains(page) || !m_client->isConnected())
        return;
    m_inFlight.insert(page);
    const QJsonObject body{{QStringLiteral("filter"), m_filter},
                           {QStringLiteral("offset"), page * PageSize},
                           {QStringLiteral("limit"), PageSize}};
    const quint64 generation = m_generation;
    QPointer<ConnectionsModel> self(this);
    m_client->request(QStringLiteral("connections"), body, [self, page, generation](const admin::Incoming &reply) {
        if (self)
            self->onPageReply(page, generation, reply);
    });
}

void ConnectionsModel::onPageReply(int page, quint64 generation, const admin::Incoming &reply)
{
    if (generation != m_generation)
        return;
    m_inFlight.remove(page);
    // The daemon went away: clear() follows, and the status bar already says so.
    if (!reply.ok && reply.errorCode == QLatin1String("disconnected"))
        return;
    if (!reply.ok) {
        qCWarning(lcConnections) << "connections page" << page << "failed:" << reply.errorCode
                                 << reply.errorMessage;
        Q_EMIT fetchFailed(reply.errorMessage);
        return;
    }
    Q_EMIT pageAboutToLoad();
    QList<Row> rows;
    const QJsonArray items = reply.body.value(QStringLiteral("items")).toArray();
    rows.reserve(items.size());
    for (const QJsonValue &value : items) {
        const QJsonObject item = value.toObject();
        rows.append({item.value(QStringLiteral("clientId")).toString(),
                     item.value(QStringLiteral("remote")).toString(),
                     item.value(QStringLiteral("protocol")).toString(),
                     isoTime(item.value(QStringLiteral("connectedAt"))),
                     item.value(QStringLiteral("messagesIn")).toInteger(),
                     item.value(QStringLiteral("messagesOut")).toInteger(),
                     isoTime(item.value(QStringLiteral("lastActivity")))});
    }
    m_pages.insert(page, std::move(rows));
    m_lastUse[page] = ++m_useClock;
    evictOldPages(page);
    // Rows come and go between pages: the other cached pages are not dropped for
    // that (it would make every reply refetch the screen); the refresh catches up.
    applyTotal(int(std::min<qint64>(reply.body.value(QStringLiteral("total")).toInteger(), INT_MAX)));
    const int first = page * PageSize;
    const int last = std::min(first + PageSize, m_total) - 1;
    if (last >= first)
        Q_EMIT dataChanged(index(first, 0), index(last, ColumnCount - 1));
    const auto loaded = m_pages.constFind(page);
    Q_EMIT pageLoaded(first, loaded == m_pages.cend() ? 0 : int(std::min<qsizetype>(loaded->size(), m_total - first)));
}

void ConnectionsModel::applyTotal(int total)
{
    total = std::max(total, 0);
    if (total == m_total)
        return;
    if (total > m_total) {
        beginInsertRows({}, m_total, total - 1);
        m_total = total;
        endInsertRows();
    } else {
        beginRemoveRows({}, total, m_total - 1);
        m_total = total;
        for (auto it = m_pages.begin(); it != m_pages.end();) {
            if (it.key() * PageSize >= total)
                it = m_pages.erase(it);
            else
                ++it;
        }
        endRemoveRows();
    }
    Q_EMIT totalChanged(m_total);
}

void ConnectionsModel::evictOldPages(int keep)
{
    while (m_pages.size() > MaxCachedPages) {
        int oldest = -1;
        quint64 oldestUse = std::numeric_limits<quint64>::max();
        for (auto it = m_pages.cbegin(); it != m_pages.cend(); ++it) {
            const quint64 use = m_lastUse.value(it.key());
            if (it.key() != keep && use < oldestUse) {
                oldest = it.key();
                oldestUse = use;
            }
        }
        m_pages.remove(oldest);
        m_lastUse.remove(oldest);
    }
}

} // namespace ws2api::gui
