#include "DaemonRunner.h"

#include <QCoreApplication>

#include <cstdio>

#include "AdminServer.h"
#include "ConfigReload.h"
#include "DemoGreeter.h"
#include "Logging.h"
#include "Profiling.h"
#include "platform/Platform.h"
#include "ws2api/Proxy.h"

using namespace Qt::Literals::StringLiterals;

namespace ws2apid {

namespace {

void raiseOpenFileLimit()
{
    qint64 before = 0;
    qint64 after = 0;
    QString error;
    if (!ws2api::platform::raiseOpenFileLimit(&before, &after, &error))
        qCWarning(lcDaemon).noquote() << "cannot raise the open files limit:" << error;
    else if (after >= 0)
        qCInfo(lcDaemon, "open files limit %lld (was %lld)", after, before);
}

} // namespace

DaemonRunner::DaemonRunner(QStringList arguments, ParsedOptions options, QObject *parent)
    : QObject(parent)
    , m_arguments(std::move(arguments))
    , m_options(std::move(options))
{
}

DaemonRunner::~DaemonRunner()
{
    m_admin.reset();
    m_proxy.reset();
}

std::optional<int> DaemonRunner::parseArguments(ParsedOptions *options,
                                                const std::function<void(const QString &)> &reportError)
{
    QCoreApplication::setApplicationName(u"ws2apid"_s);
    QCoreApplication::setApplicationVersion(daemonVersion());
    QString output;
    int exitCode = 0;
    if (parseOptions(QCoreApplication::arguments(), options, &output, &exitCode) == ParseOutcome::Exit) {
        if (exitCode == 0)
            std::fputs(qPrintable(output), stdout);
        else
            reportError(output.trimmed());
        return exitCode;
    }
    const ws2api::ProxyConfig &config = options->config;
    if (!profiling::available() && (!config.cpuProfile.isEmpty() || !config.memProfile.isEmpty())) {
        reportError(u"ws2apid: -cpuprofile/-memprofile: built without gperftools"_s);
        return 2;
    }
    return std::nullopt;
}

bool DaemonRunner::start(QString *error)
{
    Q_ASSERT(!m_started);
    const ws2api::ProxyConfig &config = m_options.config;
    logging::applyRules(m_options.logRules);
    raiseOpenFileLimit();
    if (!profiling::start(config)) {
        *error = u"-cpuprofile: cannot write "_s + config.cpuProfile;
        return false;
    }
    m_proxy = std::make_unique<ws2api::Proxy>();
    if (!m_proxy->start(config, error)) {
        m_proxy.reset();
        profiling::stop(config);
        return false;
    }
    qCInfo(lcDaemon).noquote() << statusLine();
    if (config.adminName != u"none"_s) {
        m_admin = std::make_unique<AdminServer>(m_proxy.get(), config, daemonVersion());
        if (!m_admin->listen(config.adminName, config.adminGroup, error)) {
            *error = u"admin: "_s + *error;
            m_admin.reset();
            m_proxy.reset();
            profiling::stop(config);
            return false;
        }
    }
    // The greeter has no client certificate to show where one is required.
    if (config.demoApi && config.tlsVerifyClient != ws2api::ProxyConfig::VerifyClient::Required) {
        const QStringList versions =
            config.mode == ws2api::ProxyConfig::Mode::Ocpp ? config.subprotocols : QStringList();
        new DemoGreeter(config.listenAddress, m_proxy->listenPort(), !config.tlsChains.isEmpty(), versions, this);
    }
    connect(m_proxy.get(), &ws2api::Proxy::stopped, this, [this] {
        profiling::stop(m_options.config);
        qCInfo(lcDaemon, "stopped");
        emit finished(0);
    });
    m_started = true;
    return true;
}

void DaemonRunner::reload()
{
    if (!m_started || m_stopping)
        return;
    ParsedOptions fresh;
    QString output;
    int exitCode = 0;
    if (parseOptions(m_arguments, &fresh, &output, &exitCode) != ParseOutcome::Run) {
        qCWarning(lcDaemon).noquote() << "reload failed, the running config stays:"
                                      << output.trimmed().remove(0, int(qstrlen("ws2apid: ")));
        emit reloaded(false);
        return;
    }
    const ReloadPlan plan = planReload(m_options, fresh);
    if (!plan.needRestart.isEmpty())
        qCWarning(lcDaemon).noquote() << "reload: changed" << plan.needRestart.join(u", "_s)
                                      << "needs a restart; kept as running";
    if (plan.changed.isEmpty()) {
        if (plan.needRestart.isEmpty())
            qCInfo(lcDaemon).noquote() << "reload: no changes"
                                       << (m_options.configFile.isEmpty() ? u"(no --config file)"_s : QString());
    } else {
        qCInfo(lcDaemon).noquote() << "reload: applied" << plan.changed.join(u", "_s);
        m_options = plan.next;
        logging::applyRules(m_options.logRules);
        m_proxy->reconfigure(m_options.config);
    }
    emit reloaded(true);
}

void DaemonRunner::stop()
{
    if (m_stopping)
        return;
    m_stopping = true;
    if (!m_started) {
        QMetaObject::invokeMethod(this, [this] { emit finished(0); }, Qt::QueuedConnection);
        return;
    }
    m_proxy->stop();
}

void DaemonRunner::checkAlive(std::function<void()> done)
{
    if (m_proxy)
        m_proxy->checkWorkers(std::move(done));
}

QString DaemonRunner::statusLine() const
{
    return startupLine(m_options.config, m_proxy ? m_proxy->listenPort() : 0,
                       m_proxy ? m_proxy->pushPort() : 0);
}

} // namespace ws2apid
