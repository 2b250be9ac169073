#include "DaemonProcess.h"

#include <QRegularExpression>
#include <QTest>

#include <csignal>

namespace ws2api::test {

DaemonProcess::DaemonProcess(const QString &program)
{
    m_process.setProgram(program);
    QObject::connect(&m_process, &QProcess::readyReadStandardError, [this] {
        m_stderr += m_process.readAllStandardError();
    });
}

DaemonProcess::~DaemonProcess()
{
    if (m_process.state() != QProcess::NotRunning) {
        m_process.kill();
        m_process.waitForFinished();
    }
}

quint16 DaemonProcess::start(const QStringList &arguments)
{
    m_process.setArguments(arguments);
    m_process.start();
    if (!m_process.waitForStarted())
        return 0;
    static const QRegularExpression listening(QStringLiteral("listening on 127\\.0\\.0\\.1:(\\d+) "));
    QRegularExpressionMatch match;
    const bool ended = QTest::qWaitFor([&] {
        match = listening.match(QString::fromUtf8(m_stderr));
        return match.hasMatch() || m_process.state() == QProcess::NotRunning;
    }, StartTimeoutMs);
    return ended && match.hasMatch() ? quint16(match.captured(1).toUInt()) : 0;
}

bool DaemonProcess::waitForExit()
{
    return m_process.state() == QProcess::NotRunning || m_process.waitForFinished();
}

void DaemonProcess::signal(int signal)
{
    ::kill(pid_t(m_process.processId()), signal);
}

} // namespace ws2api::test
