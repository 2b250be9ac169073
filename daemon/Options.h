#pragma once

#include <QHostAddress>
#include <QString>
#include <QStringList>

#include "ws2api/ProxyConfig.h"

// ws2apid's command line and INI config file, turned into a ws2api::ProxyConfig.
// A library apart from main.cpp so that every rule is testable without a process.
namespace ws2apid {

enum class ParseOutcome {
    Run,  // *out is filled and valid: start the proxy
    Exit  // print *output and exit with *exitCode
};

struct ParsedOptions
{
    ws2api::ProxyConfig config;  // validated; config.threads is never 0
    QString logRules;            // QLoggingCategory rules, ';' or newline separated
    QString configFile;          // the --config path, empty when none
    QStringList tlsCertFiles;    // --tls-cert as given, for messages
};

// `arguments` is argv, program name first. On Exit, *output holds what main prints:
// with *exitCode 0 the --help or --version text for stdout, otherwise exactly one
// line "ws2apid: <what is wrong>" for stderr (exit code 2). Never touches *out's
// caller-visible state on Exit beyond partial values that must not be used.
ParseOutcome parseOptions(const QStringList &arguments, ParsedOptions *out, QString *output,
                          int *exitCode);

// "1.2.3.4:4000", "[::1]:4000", "*:4000" for the dual-stack any-address.
QString formatEndpoint(const QHostAddress &address, quint16 port);

// The line logged once the proxy listens, with the ports as bound (port 0 given).
QString startupLine(const ws2api::ProxyConfig &config, quint16 listenPort, quint16 pushPort);

// For QLoggingCategory::setFilterRules(): info and above, then --log-rules (separated by
// ';' or ',', which INI values and shells pass more easily than newlines).
QString loggingFilterRules(const QString &logRules);

QString daemonVersion();

// The long names of every option --help lists (without dashes), for tests.
QStringList optionNames();

// For the setters of option values (here and in TlsOptions): a value as an error
// line quotes it, and an on|off switch (false and *why for anything else).
QString quoted(const QString &value);
bool parseOnOff(const QString &value, bool *on, QString *why);

} // namespace ws2apid
