#include "transport/AcceptedSocket.h"

#include <QHostAddress>
#include <QPointer>
#include <QSocketNotifier>
#include <QVariant>

#include <cstring>

#include "platform/Platform.h"
#include "transport/LingeringClose.h"
#include "transport/Tls.h"

namespace ws2api {

namespace {
// What one read takes at most (four TLS records), into one buffer per thread.
constexpr qint64 ReadChunk = 64 * 1024;
// Unconsumed input beyond this stops reading until the owner catches up.
constexpr qint64 ReadAheadLimit = 256 * 1024;
// Unsent output beyond this stops reading too: a client that sends pings (or anything
// else with an answer) and does not read the answers is held back by its own TCP
// window instead of filling our memory.
constexpr qint64 WriteBehindLimit = 256 * 1024;
// The queue's consumed front is dropped once it is this large and half the queue.
constexpr qsizetype CompactAfter = 64 * 1024;

char *readBuffer()
{
    static thread_local char buffer[ReadChunk];
    return buffer;
}

void dropConsumed(QByteArray *data, qsizetype *pos)
{
    if (*pos == data->size()) {
        *data = QByteArray();  // gives the memory back: most connections are idle
        *pos = 0;
    } else if (*pos >= CompactAfter && *pos * 2 >= data->size()) {
        data->remove(0, *pos);
        *pos = 0;
    }
}
} // namespace

using transport::TlsStream;

AcceptedSocket::AcceptedSocket(qintptr descriptor, std::shared_ptr<const transport::TlsServerContext> tls)
    : m_fd(descriptor)
    , m_readNotifier(new QSocketNotifier(QSocketNotifier::Read, this))
{
    QHostAddress peer;
    QHostAddress local;
    quint16 peerPort = 0;
    quint16 localPort = 0;
    platform::setNonBlocking(descriptor);
    platform::socketEnds(descriptor, &peer, &peerPort, &local, &localPort);
    setPeerAddress(peer);
    setPeerPort(peerPort);
    setLocalAddress(local);
    setLocalPort(localPort);
    setSocketState(ConnectedState);
    QIODevice::open(QIODevice::ReadWrite | QIODevice::Unbuffered);
    if (tls)
        m_tls = std::make_unique<TlsStream>(std::move(tls), descriptor);
    connect(m_readNotifier, &QSocketNotifier::activated, this, &AcceptedSocket::onReadable);
    m_readNotifier->setSocket(descriptor);
    m_readNotifier->setEnabled(true);
}

AcceptedSocket::~AcceptedSocket()
{
    if (m_fd >= 0) {
        m_readNotifier->setEnabled(false);
        watchWritable(false);
        m_tls.reset();
        platform::closeSocket(m_fd);
        m_fd = -1;
    }
    // ~QAbstractSocket aborts a socket it thinks connected, through its own close().
    setSocketState(UnconnectedState);
}

QByteArray AcceptedSocket::peekPending(qsizetype max) const
{
    return QByteArray(m_in.constData() + m_inPos, qMin<qsizetype>(max, pending()));
}

QByteArray AcceptedSocket::takePending()
{
    QByteArray taken = m_inPos == 0 ? std::exchange(m_in, {}) : m_in.sliced(m_inPos);
    m_in = QByteArray();
    m_inPos = 0;
    resumeReading();
    return taken;
}

bool AcceptedSocket::verifiesClientCertificates() const
{
    return m_tls && m_tls->verifiesClients();
}

QByteArray AcceptedSocket::clientCertHeader() const
{
    const QByteArray der = m_tls ? m_tls->verifiedPeerCertificate() : QByteArray();
    return der.isEmpty() ? QByteArray() : ':' + der.toBase64() + ':';
}

qint64 AcceptedSocket::bytesAvailable() const
{
    return QIODevice::bytesAvailable() + pending();
}

qint64 AcceptedSocket::bytesToWrite() const
{
    return m_out.size() - m_outPos;
}

bool AcceptedSocket::canReadLine() const
{
    return QIODevice::canReadLine() || m_in.indexOf('\n', m_inPos) >= 0;
}

void AcceptedSocket::close()
{
    // QAbstractSocket::abort() empties the write channels, then calls close():
    // that is how an abort shows here. What waits to be sent is dropped then.
    m_aborting = m_aborting || writeChannelCount() == 0;
    QIODevice::close();
    m_in = QByteArray();
    m_inPos = 0;
    if (m_aborting)
        finishClose(false);
    else
        disconnectFromHost();
}

void AcceptedSocket::disconnectFromHost()
{
    if (state() == UnconnectedState)
        return;
    m_readNotifier->setEnabled(false);
    if (state() != ClosingState) {
        setSocketState(ClosingState);
        const QPointer<AcceptedSocket> alive(this);
        Q_EMIT stateChanged(ClosingState);
        if (!alive || state() == UnconnectedState)
            return;
    }
    if (bytesToWrite() > 0 && !m_aborting) {
        watchWritable(true);  // finishes once the queue is out
        return;
    }
    finishClose(!m_aborting);
}

void AcceptedSocket::setSocketOption(SocketOption option, const QVariant &value)
{
    if (option == LowDelayOption && value.toInt() != 0 && m_fd >= 0)
        platform::setNoDelay(m_fd);
}

QVariant AcceptedSocket::socketOption(SocketOption)
{
    return {};
}

void AcceptedSocket::setReadBufferSize(qint64)
{
    // Reading is bounded by ReadAheadLimit, whatever the owner asks.
}

qint64 AcceptedSocket::readData(char *data, qint64 maxSize)
{
    const qint64 n = qMin(maxSize, pending());
    if (n == 0)
        return state() == ConnectedState || maxSize == 0 ? 0 : -1;
    std::memcpy(data, m_in.constData() + m_inPos, size_t(n));
    m_inPos += n;
    dropConsumed(&m_in, &m_inPos);
    resumeReading();
    return n;
}

// QAbstractSocket's would ask a socket engine, which there is none of.
qint64 AcceptedSocket::skipData(qint64 maxSize)
{
    const qint64 n = qMin(maxSize, pending());
    m_inPos += n;
    dropConsumed(&m_in, &m_inPos);
    resumeReading();
    return n;
}

qint64 AcceptedSocket::sendOrQueue(const char *data, qint64 size)
{
    if (m_fd < 0 || m_aborting || size <= 0)
        return size;
    // Behind a queue (or an unfinished TLS handshake) in order; else straight out.
    if (bytesToWrite() > 0 || (m_tls && !m_tls->established())) {
        m_out.append(data, size);
        if (!m_tls || m_tls->established())
            watchWritable(true);
        return size;
    }
    qint64 done = 0;
    QString error;
    if (!transmit(data, size, &done, &error)) {
        // Told from the event loop: the writer may be deep in a call of its own.
        QMetaObject::invokeMethod(this, [this, error] { fail(RemoteHostClosedError, error); },
                                  Qt::QueuedConnection);
        return size;
    }
    if (done < size) {
        m_out.append(data + done, size - done);
        watchWritable(true);
    }
    return size;
}

// Most connections never find the kernel's send buffer full: the notifier (a QObject
// with its private part and a connection, ~0.3 KiB) is made the first time it is needed.
void AcceptedSocket::watchWritable(bool on)
{
    if (!m_writeNotifier) {
        if (!on)
            return;
        m_writeNotifier = new QSocketNotifier(QSocketNotifier::Write, this);
        connect(m_writeNotifier, &QSocketNotifier::activated, this, &AcceptedSocket::onWritable);
        m_writeNotifier->setSocket(m_fd);
    }
    m_writeNotifier->setEnabled(on);
}

void AcceptedSocket::onReadable()
{
    if (m_fd < 0)
        return;
    if (m_tls && !m_tls->established() && !continueHandshake())
        return;
    readAvailable();
}

void AcceptedSocket::onWritable()
{
    if (m_fd < 0)
        return;
    if (m_tls && !m_tls->established()) {
        if (!continueHandshake())
            return;
        readAvailable();  // a client's first records may have come with its Finished
        if (m_fd < 0)
            return;
    }
    if (m_readWantsWrite) {
        m_readWantsWrite = false;
        const QPointer<AcceptedSocket> alive(this);
        readAvailable();
        if (!alive || m_fd < 0)
            return;
    }
    flushQueue();
}

bool AcceptedSocket::continueHandshake()
{
    switch (m_tls->handshake()) {
    case TlsStream::Status::Ok:
        watchWritable(bytesToWrite() > 0);
        return true;
    case TlsStream::Status::WantRead:
        watchWritable(false);
        return false;
    case TlsStream::Status::WantWrite:
        watchWritable(true);
        return false;
    case TlsStream::Status::Closed:
        peerEnded();
        return false;
    case TlsStream::Status::Failed:
        break;
    }
    const QString cause = m_tls->failure();
    const QPointer<AcceptedSocket> alive(this);
    Q_EMIT tlsHandshakeFailed(cause);
    if (alive)
        fail(SslHandshakeFailedError, cause);
    return false;
}

void AcceptedSocket::readAvailable()
{
    char *buffer = readBuffer();
    bool arrived = false;
    bool ended = false;
    QString error;
    while (wantsToRead()) {
        qint64 got = 0;
        if (m_tls) {
            const TlsStream::Status status = m_tls->read(buffer, ReadChunk, &got);
            if (status == TlsStream::Status::WantWrite) {
                m_readWantsWrite = true;
                watchWritable(true);
            }
            if (status == TlsStream::Status::Closed)
                ended = true;
            else if (status == TlsStream::Status::Failed)
                error = m_tls->failure();
            if (status != TlsStream::Status::Ok)
                break;
        } else {
            got = platform::receiveNow(m_fd, buffer, ReadChunk, &error);
            if (got == 0)
                ended = true;
            if (got <= 0)
                break;
        }
        m_in.append(buffer, got);
        arrived = true;
        if (!m_tls && got < ReadChunk)
            break;  // the kernel has nothing more now
    }
    m_readNotifier->setEnabled(!ended && error.isEmpty() && wantsToRead());
    const QPointer<AcceptedSocket> alive(this);
    if (arrived && pending() > 0) {
        Q_EMIT readyRead();
        if (!alive || m_fd < 0)
            return;
    }
    if (!error.isEmpty())
        fail(RemoteHostClosedError, error);
    else if (ended)
        peerEnded();
}

bool AcceptedSocket::wantsToRead() const
{
    return pending() < ReadAheadLimit && bytesToWrite() < WriteBehindLimit;
}

// Reading stopped for the read-ahead or the unsent output, and may go on now.
void AcceptedSocket::resumeReading()
{
    if (m_fd < 0 || state() != ConnectedState || m_peerEnded || m_readNotifier->isEnabled() || !wantsToRead())
        return;
    m_readNotifier->setEnabled(true);
    // TLS may hold decrypted records the descriptor will not announce again.
    QMetaObject::invokeMethod(this, &AcceptedSocket::onReadable, Qt::QueuedConnection);
}

void AcceptedSocket::flushQueue()
{
    qint64 sent = 0;
    QString error;
    bool broken = false;
    while (bytesToWrite() > 0) {
        qint64 done = 0;
        if (!transmit(m_out.constData() + m_outPos, bytesToWrite(), &done, &error)) {
            broken = true;
            break;
        }
        if (done == 0)
            break;
        m_outPos += done;
        sent += done;
    }
    dropConsumed(&m_out, &m_outPos);
    watchWritable(!broken && (bytesToWrite() > 0 || m_readWantsWrite));
    const QPointer<AcceptedSocket> alive(this);
    if (sent > 0) {
        Q_EMIT bytesWritten(sent);
        if (!alive || m_fd < 0)
            return;
    }
    if (broken)
        fail(RemoteHostClosedError, error);
    else if (bytesToWrite() == 0 && state() == ClosingState)
        finishClose(!m_aborting);
    else
        resumeReading();
}

bool AcceptedSocket::transmit(const char *data, qint64 size, qint64 *done, QString *error)
{
    if (!m_tls) {
        *done = platform::sendOrFail(m_fd, data, size, error);
        if (*done >= 0)
            return true;
        *done = 0;
        return false;
    }
    switch (m_tls->write(data, size, done)) {
    case TlsStream::Status::Ok:
    case TlsStream::Status::WantWrite:
    case TlsStream::Status::WantRead:
        return true;
    case TlsStream::Status::Closed:
        *error = QStringLiteral("the peer closed the TLS stream");
        return false;
    case TlsStream::Status::Failed:
        *error = m_tls->failure();
        return false;
    }
    return false;
}

// As QAbstractSocket on end of stream: RemoteHostClosedError, then a disconnect
// that still sends what is queued. Half-closed, only the reading ends.
void AcceptedSocket::peerEnded()
{
    m_readNotifier->setEnabled(false);
    if (m_peerEnded)
        return;
    m_peerEnded = true;
    if (m_halfCloseAllowed && state() == ConnectedState) {
        Q_EMIT readChannelFinished();
        return;
    }
    setSocketError(RemoteHostClosedError);
    setErrorString(tr("The remote host closed the connection"));
    const QPointer<AcceptedSocket> alive(this);
    Q_EMIT errorOccurred(RemoteHostClosedError);
    if (alive)
        disconnectFromHost();
}

void AcceptedSocket::fail(SocketError error, const QString &text)
{
    if (m_fd < 0)
        return;
    m_aborting = true;
    setSocketError(error);
    setErrorString(text);
    const QPointer<AcceptedSocket> alive(this);
    Q_EMIT errorOccurred(error);
    if (alive)
        finishClose(false);
}

void AcceptedSocket::finishClose(bool graceful)
{
    if (m_fd < 0)
        return;
    if (graceful && m_tls)
        m_tls->shutdown();
    m_readNotifier->setEnabled(false);
    watchWritable(false);
    m_tls.reset();
    if (graceful && !m_peerEnded)
        transport::lingerAndClose(m_fd, m_lingerMs, m_lingerKeeper);
    else
        platform::closeSocket(m_fd);
    m_fd = -1;
    m_out = QByteArray();
    m_outPos = 0;
    const SocketState previous = state();
    setSocketState(UnconnectedState);
    const QPointer<AcceptedSocket> alive(this);
    Q_EMIT stateChanged(UnconnectedState);
    if (!alive)
        return;
    Q_EMIT readChannelFinished();
    if (alive && (previous == ConnectedState || previous == ClosingState))
        Q_EMIT disconnected();
}

} // namespace ws2api
