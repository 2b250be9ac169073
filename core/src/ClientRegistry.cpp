#include "ClientRegistry.h"

namespace ws2api {

std::optional<ClientRegistry::Owner> ClientRegistry::claim(const QByteArray &clientId, Owner owner)
{
    QMutexLocker lock(&m_mutex);
    auto it = m_owners.find(clientId);
    if (it == m_owners.end()) {
        m_owners.insert(clientId, owner);
        return std::nullopt;
    }
    const Owner previous = *it;
    *it = owner;
    return previous;
}

void ClientRegistry::release(const QByteArray &clientId, quint64 session)
{
    QMutexLocker lock(&m_mutex);
    auto it = m_owners.find(clientId);
    if (it != m_owners.end() && it->session == session)
        m_owners.erase(it);
}

std::optional<ClientRegistry::Owner> ClientRegistry::find(const QByteArray &clientId) const
{
    QMutexLocker lock(&m_mutex);
    auto it = m_owners.constFind(clientId);
    if (it == m_owners.cend())
        return std::nullopt;
    return *it;
}

bool ClientRegistry::heldByNewer(const QByteArray &clientId, quint64 session) const
{
    QMutexLocker lock(&m_mutex);
    const auto it = m_owners.constFind(clientId);
    return it != m_owners.cend() && it->session > session;
}

qsizetype ClientRegistry::size() const
{
    QMutexLocker lock(&m_mutex);
    return m_owners.size();
}

} // namespace ws2api
