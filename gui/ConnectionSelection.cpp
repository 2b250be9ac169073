#include "ConnectionSelection.h"

#include <QItemSelectionModel>
#include <algorithm>

#include "ClientIdOrder.h"
#include "ConnectionsModel.h"

namespace ws2api::gui {

namespace {

bool clientIdLess(const QString &a, const QString &b)
{
    return admin::clientIdLess(a.toUtf8(), b.toUtf8());
}

// Whole rows, consecutive ones as one range.
void addRow(QItemSelection *rows, const QAbstractItemModel *model, int row)
{
    const QModelIndex end = model->index(row, model->columnCount() - 1);
    if (!rows->isEmpty() && rows->last().bottom() == row - 1)
        rows->last() = QItemSelectionRange(rows->last().topLeft(), end);
    else
        rows->append(QItemSelectionRange(model->index(row, 0), end));
}

} // namespace

ConnectionSelection::ConnectionSelection(ConnectionsModel *model, QItemSelectionModel *selection, QObject *parent)
    : QObject(parent)
    , m_model(model)
    , m_selection(selection)
{
    connect(m_selection, &QItemSelectionModel::selectionChanged, this, &ConnectionSelection::onSelectionChanged);
    connect(m_selection, &QItemSelectionModel::currentChanged, this, &ConnectionSelection::onCurrentChanged);
    connect(m_model, &ConnectionsModel::pageAboutToLoad, this, [this] { m_following = true; });
    connect(m_model, &ConnectionsModel::pageLoaded, this, &ConnectionSelection::onPageLoaded);
    // The daemon went (or another one was chosen): nothing is listed, so nothing is picked.
    connect(m_model, &QAbstractItemModel::modelReset, this, &ConnectionSelection::clear);
}

QStringList ConnectionSelection::clientIds() const
{
    QStringList ids(m_ids.cbegin(), m_ids.cend());
    std::sort(ids.begin(), ids.end(), clientIdLess);
    return ids;
}

void ConnectionSelection::forget(const QString &clientId)
{
    m_ids.remove(clientId);
}

void ConnectionSelection::clear()
{
    m_ids.clear();
    m_currentId.clear();
    m_following = false;
}

void ConnectionSelection::onSelectionChanged(const QItemSelection &selected, const QItemSelection &deselected)
{
    if (m_following)
        return;
    // Rows still loading have no ClientId yet: picking one picks nothing.
    for (const QItemSelectionRange &range : deselected) {
        for (int row = range.top(); row <= range.bottom(); ++row)
            m_ids.remove(m_model->clientIdAt(row));
    }
    for (const QItemSelectionRange &range : selected) {
        for (int row = range.top(); row <= range.bottom(); ++row) {
            const QString id = m_model->clientIdAt(row);
            if (!id.isEmpty())
                m_ids.insert(id);
        }
    }
    emitPicked();
}

void ConnectionSelection::onCurrentChanged(const QModelIndex &current)
{
    if (m_following)
        return;
    m_currentId = m_model->clientIdAt(current.row());
    emitPicked();
}

void ConnectionSelection::emitPicked()
{
    // A click moves the current row before selecting it, a key selects before moving:
    // whichever comes second sees the current row selected.
    const int row = m_selection->currentIndex().row();
    const QString id = m_model->clientIdAt(row);
    if (!id.isEmpty() && m_selection->isRowSelected(row))
        Q_EMIT picked(id);
}

void ConnectionSelection::onPageLoaded(int first, int count)
{
    QSet<QString> listed;
    follow(first, count, &listed);
    m_following = false;
    dropUnlisted(first, count, listed);
}

void ConnectionSelection::follow(int first, int count, QSet<QString> *listed)
{
    QItemSelection select;
    QItemSelection deselect;
    int currentRow = -1;
    for (int row = first; row < first + count; ++row) {
        const QString id = m_model->clientIdAt(row);
        const bool picked = m_ids.contains(id);
        if (picked) {
            listed->insert(id);
            if (!m_selection->isRowSelected(row))
                addRow(&select, m_model, row);
        } else if (m_selection->rowIntersectsSelection(row)) {
            addRow(&deselect, m_model, row);
        }
        if (!m_currentId.isEmpty() && id == m_currentId)
            currentRow = row;
    }
    m_selection->select(deselect, QItemSelectionModel::Deselect | QItemSelectionModel::Rows);
    m_selection->select(select, QItemSelectionModel::Select | QItemSelectionModel::Rows);
    const QModelIndex current = m_selection->currentIndex();
    if (currentRow >= 0 && currentRow != current.row()) {
        m_selection->setCurrentIndex(m_model->index(currentRow, std::max(current.column(), 0)),
                                     QItemSelectionModel::NoUpdate);
    } else if (currentRow < 0 && current.row() >= first && current.row() < first + count) {
        // Its row holds another client now: better no cursor than one on someone else.
        m_selection->setCurrentIndex({}, QItemSelectionModel::NoUpdate);
    }
}

void ConnectionSelection::dropUnlisted(int first, int count, const QSet<QString> &listed)
{
    QStringList gone;
    for (const QString &id : std::as_const(m_ids)) {
        if (!listed.contains(id) && isUnlisted(first, count, id))
            gone << id;
    }
    if (!m_currentId.isEmpty() && !listed.contains(m_currentId) && isUnlisted(first, count, m_currentId))
        m_currentId.clear();
    if (gone.isEmpty())
        return;
    for (const QString &id : std::as_const(gone))
        m_ids.remove(id);
    std::sort(gone.begin(), gone.end(), clientIdLess);
    Q_EMIT dropped(gone);
}

bool ConnectionSelection::isUnlisted(int first, int count, const QString &clientId) const
{
    // The daemon's filter is a plain substring match: one it hides is not coming back.
    const QString filter = m_model->filter();
    return (!filter.isEmpty() && !clientId.contains(filter)) || wouldBeListedIn(first, count, clientId);
}

bool ConnectionSelection::wouldBeListedIn(int first, int count, const QString &clientId) const
{
    // The daemon lists in natural ClientId order, and a page is one snapshot: a client
    // that sorts within the page's span but is not in it was not connected just now.
    // Outside the span it may simply be on a page not loaded again yet.
    const bool fromStart = first == 0;
    const bool toEnd = first + count >= m_model->rowCount();
    if (count == 0)
        return fromStart && toEnd;
    const bool afterFirst = fromStart || !clientIdLess(clientId, m_model->clientIdAt(first));
    const bool beforeLast = toEnd || !clientIdLess(m_model->clientIdAt(first + count - 1), clientId);
    return afterFirst && beforeLast;
}

} // namespace ws2api::gui
