#pragma once

#include <QAbstractTableModel>
#include <QDateTime>
#include <QHash>
#include <QList>
#include <QSet>
#include <QTimer>

#include "AdminProtocol.h"

namespace ws2api::gui {

class AdminClient;

// The daemon's connection list as a table that never holds it all: with 100k clients
// the daemon is asked only for the pages of PageSize rows the view paints (plus one
// either side), those pages are cached (at most MaxCachedPages, least recently used
// go first), and the painted ones are fetched again every refresh interval. rowCount()
// is the `total` of the latest reply; rows not loaded yet show a placeholder. Without
// a daemon the table is empty, never the last list it sent.
class ConnectionsModel : public QAbstractTableModel
{
    Q_OBJECT

public:
    enum Column { ClientId, Remote, Protocol, ConnectedSince, MessagesIn, MessagesOut, LastActivity,
                  ColumnCount };
    static constexpr int PageSize = 200;
    static constexpr int MaxCachedPages = 50;

    explicit ConnectionsModel(AdminClient *client, QObject *parent = nullptr);

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role) const override;

    QString filter() const { return m_filter; }
    // ClientId substring, applied by the daemon; drops the cache and starts over.
    void setFilter(const QString &filter);
    // Empty while the row's page is not loaded.
    QString clientIdAt(int row) const;
    bool isLoaded(int row) const;
    int cachedPageCount() const { return int(m_pages.size()); }
    void setRefreshInterval(int ms) { m_refreshTimer.setInterval(ms); }
    // Forgets every page and asks again, e.g. after a reconnect.
    void reload();
    // Forgets everything, the total too: while the daemon is away nothing is known.
    void clear();
    // Fetches the pages painted lately again (the refresh timer does this too).
    void refresh();

Q_SIGNALS:
    void totalChanged(int total);
    void fetchFailed(const QString &error);
    // Around one reply: in between, rows are inserted or removed at the end and the
    // page's rows change. Every row may now hold another client than before: a view
    // that keeps something by row (its selection) must look again after pageLoaded.
    void pageAboutToLoad();
    // The rows from `first` on, `count` of them, are what the daemon listed just now,
    // one snapshot, in its (natural ClientId) order; `count` is 0 for an empty listing.
    void pageLoaded(int first, int count);

private:
    struct Row
    {
        QString clientId;
        QString remote;
        QString protocol;
        QDateTime connectedAt;
        qint64 messagesIn = 0;
        qint64 messagesOut = 0;
        QDateTime lastActivity;
    };

    const Row *rowAt(int row) const;
    QVariant displayText(const Row &row, int column) const;
    void requestPage(int page);
    void onPageReply(int page, quint64 generation, const admin::Incoming &reply);
    void applyTotal(int total);
    void fetchWanted();
    void evictOldPages(int keep);

    AdminClient *m_client;
    QString m_filter;
    // Bumped by every filter change or reload, so late replies for an old view are dropped.
    quint64 m_generation = 0;
    int m_total = 0;
    QHash<int, QList<Row>> m_pages;
    QSet<int> m_inFlight;
    // data() is const and runs many times per paint: it only notes what it missed
    // and what it served; fetching happens on the next turn of the event loop.
    mutable QSet<int> m_wanted;
    mutable QSet<int> m_touched;
    mutable QHash<int, quint64> m_lastUse;
    mutable quint64 m_useClock = 0;
    mutable QTimer m_fetchTimer;
    QSet<int> m_visible;  // the pages painted before the latest refresh
    QTimer m_refreshTimer;
};

} // namespace ws2api::gui
