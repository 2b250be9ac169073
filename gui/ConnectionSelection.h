#pragma once

#include <QObject>
#include <QSet>
#include <QString>
#include <QStringList>

class QItemSelection;
class QItemSelectionModel;
class QModelIndex;

namespace ws2api::gui {

class ConnectionsModel;

// The connections the operator picked, kept as ClientIds. The table's rows are whatever
// the daemon's latest page put there: a client connecting or leaving above the picked
// one shifts every row below, and a selection kept by row number would then point at
// another charger, for "Disconnect selected" and the push panel alike. So the picked
// ClientIds are the selection: after every page the highlight and the current row move
// to wherever those clients are now, and a ClientId the daemon no longer lists (it left,
// or the filter hides it) is let go, never handed to whoever took its row.
class ConnectionSelection : public QObject
{
    Q_OBJECT

public:
    ConnectionSelection(ConnectionsModel *model, QItemSelectionModel *selection, QObject *parent = nullptr);

    // In natural ClientId order; some may be on pages not loaded now.
    QStringList clientIds() const;
    // Lets go of a client, e.g. one just disconnected; its row loses the highlight
    // with the next page.
    void forget(const QString &clientId);

Q_SIGNALS:
    // The operator picked a row (its current row is selected): this is its client.
    void picked(const QString &clientId);
    // Picked clients the daemon no longer lists, now let go.
    void dropped(const QStringList &clientIds);

private:
    void onSelectionChanged(const QItemSelection &selected, const QItemSelection &deselected);
    void onCurrentChanged(const QModelIndex &current);
    void emitPicked();
    void onPageLoaded(int first, int count);
    void follow(int first, int count, QSet<QString> *listed);
    void dropUnlisted(int first, int count, const QSet<QString> &listed);
    // Not in the page from `first` (`count` rows) and so not connected, or hidden by the filter.
    bool isUnlisted(int first, int count, const QString &clientId) const;
    bool wouldBeListedIn(int first, int count, const QString &clientId) const;
    void clear();

    ConnectionsModel *m_model;
    QItemSelectionModel *m_selection;
    QSet<QString> m_ids;
    // The client of the current row (where the keyboard goes on from), selected or not.
    QString m_currentId;
    // From a page's arrival until the highlight has followed it: selection changes in
    // between are the model's or this class's doing, not the operator's.
    bool m_following = false;
};

} // namespace ws2api::gui
