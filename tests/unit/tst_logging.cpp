// How ws2apid's log lines look: for the journal, and with UTC timestamps elsewhere.
#include <QTest>

#include "Logging.h"

using namespace Qt::Literals::StringLiterals;

class TestLogging : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void formatLine_data();
    void formatLine();
};

void TestLogging::formatLine_data()
{
    using ws2apid::logging::Sink;
    QTest::addColumn<Sink>("sink");
    QTest::addColumn<int>("type");
    QTest::addColumn<QString>("message");
    QTest::addColumn<QString>("line");
    QTest::addRow("journal info") << Sink::Journal << int(QtInfoMsg) << u"hello"_s << u"<6>ws2api.x: hello\n"_s;
    QTest::addRow("journal warning") << Sink::Journal << int(QtWarningMsg) << u"w"_s << u"<4>ws2api.x: w\n"_s;
    QTest::addRow("journal debug") << Sink::Journal << int(QtDebugMsg) << u"d"_s << u"<7>ws2api.x: d\n"_s;
    QTest::addRow("journal critical") << Sink::Journal << int(QtCriticalMsg) << u"c"_s << u"<3>ws2api.x: c\n"_s;
    QTest::addRow("one line") << Sink::Journal << int(QtInfoMsg) << u"a\nb\rc"_s << u"<6>ws2api.x: a\\nb\\rc\n"_s;
    QTest::addRow("plain") << Sink::Plain << int(QtWarningMsg) << u"w"_s
                           << u"2026-12-02T09:08:07.006Z warning ws2api.x: w\n"_s;
    QTest::addRow("plain one line") << Sink::Plain << int(QtInfoMsg) << u"a\nb"_s
                                    << u"2026-12-02T09:08:07.006Z info ws2api.x: a\\nb\n"_s;
    // The Windows Event Log stamps time and level itself.
    QTest::addRow("event log") << Sink::EventLog << int(QtWarningMsg) << u"a\nb"_s << u"ws2api.x: a\\nb\n"_s;
}

void TestLogging::formatLine()
{
    QFETCH(ws2apid::logging::Sink, sink);
    QFETCH(int, type);
    QFETCH(QString, message);
    QFETCH(QString, line);
    const QDateTime at(QDate(2026, 12, 2), QTime(9, 8, 7, 6), Qt::UTC);
    QCOMPARE(ws2apid::logging::formatLine(sink, QtMsgType(type), "ws2api.x", message, at), line);
}

QTEST_GUILESS_MAIN(TestLogging)
#include "tst_logging.moc"
