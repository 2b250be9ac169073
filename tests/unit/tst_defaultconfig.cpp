// The default ws2apid.conf that the packages install (resources/ws2apid.conf.in):
// it parses, documents every option, and the defaults it shows are the real ones.
#include <QFile>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>

#include "ConfigReload.h"
#include "Options.h"

using namespace Qt::Literals::StringLiterals;
using ws2apid::ParsedOptions;

namespace {

bool parse(const QStringList &arguments, ParsedOptions *options, QString *output)
{
    int exitCode = 0;
    return ws2apid::parseOptions(QStringList{u"ws2apid"_s} + arguments, options, output, &exitCode)
           == ws2apid::ParseOutcome::Run;
}

QByteArray readAll(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        qFatal("cannot read %s", qPrintable(path));
    return file.readAll();
}

// "name = value" lines that are commented out: the defaults the file shows.
const QRegularExpression ShownDefault(u"^;([a-z][a-z-]*) = (.+)$"_s, QRegularExpression::MultilineOption);

} // namespace

class TestDefaultConfig : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void parsesAsTheDefaults_data();
    void parsesAsTheDefaults();
    void documentsEveryOption();
    void shownDefaultsAreTheDefaults();
};

void TestDefaultConfig::parsesAsTheDefaults_data()
{
    QTest::addColumn<QString>("path");
    QTest::addColumn<QStringList>("differences");
    // The deb's config moves the admin socket to /run/ws2api/ for the ws2api group.
    QTest::addRow("posix") << QStringLiteral(WS2API_CONF_DIR "/ws2apid-posix.conf")
                           << QStringList{u"admin"_s, u"admin-group"_s};
    QTest::addRow("windows") << QStringLiteral(WS2API_CONF_DIR "/ws2apid-windows.conf") << QStringList();
}

void TestDefaultConfig::parsesAsTheDefaults()
{
    QFETCH(QString, path);
    QFETCH(QStringList, differences);
    ParsedOptions defaults, fromFile;
    QString output;
    QVERIFY2(parse({}, &defaults, &output), qPrintable(output));
    QVERIFY2(parse({u"--config"_s, path}, &fromFile, &output), qPrintable(output));
    const ws2apid::ReloadPlan plan = ws2apid::planReload(defaults, fromFile);
    QStringList differing = plan.changed + plan.needRestart;
    differing.sort();
    QCOMPARE(differing, differences);
}

void TestDefaultConfig::documentsEveryOption()
{
    const QString text = QString::fromUtf8(readAll(QStringLiteral(WS2API_CONF_DIR "/ws2apid-windows.conf")));
    for (const QString &name : ws2apid::optionNames()) {
        if (name == u"config")
            continue;
        const QRegularExpression line(u"^;?%1 ="_s.arg(QRegularExpression::escape(name)),
                                      QRegularExpression::MultilineOption);
        QVERIFY2(line.match(text).hasMatch(), qPrintable(u"ws2apid.conf.in does not show %1"_s.arg(name)));
    }
}

// Uncommenting every shown default must change nothing: a default that drifted
// from the daemon's would show up here.
void TestDefaultConfig::shownDefaultsAreTheDefaults()
{
    QByteArray text = readAll(QStringLiteral(WS2API_CONF_DIR "/ws2apid-windows.conf"));
    QString uncommented = QString::fromUtf8(text);
    int shown = 0;
    uncommented.replace(ShownDefault, u"\\1 = \\2"_s);
    for (auto it = ShownDefault.globalMatch(QString::fromUtf8(text)); it.hasNext(); it.next())
        ++shown;
    QVERIFY2(shown >= 12, qPrintable(u"only %1 defaults shown"_s.arg(shown)));

    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString path = dir.filePath(u"all-defaults.conf"_s);
    QFile file(path);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write(uncommented.toUtf8());
    file.close();

    ParsedOptions defaults, fromFile;
    QString output;
    QVERIFY2(parse({}, &defaults, &output), qPrintable(output));
    QVERIFY2(parse({u"--config"_s, path}, &fromFile, &output), qPrintable(output));
    const ws2apid::ReloadPlan plan = ws2apid::planReload(defaults, fromFile);
    QVERIFY2(plan.changed.isEmpty() && plan.needRestart.isEmpty(),
             qPrintable(u"shown defaults differ: "_s + (plan.changed + plan.needRestart).join(u", "_s)));
}

QTEST_GUILESS_MAIN(TestDefaultConfig)
#include "tst_defaultconfig.moc"
