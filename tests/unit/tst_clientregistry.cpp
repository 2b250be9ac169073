// ClientRegistry: newest connection wins, a late release of a replaced session
// cannot remove its successor, and heldByNewer() tells an ending session that the
// API has since accepted another connection of its client.
#include <QTest>

#include "ClientRegistry.h"

using namespace ws2api;

class TestClientRegistry : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void newestWins()
    {
        ClientRegistry registry;
        const quint64 first = registry.newSessionSerial();
        const quint64 second = registry.newSessionSerial();
        QVERIFY(second > first);
        QVERIFY(!registry.claim("CP1", {0, first}));
        const auto previous = registry.claim("CP1", {1, second});
        QVERIFY(previous);
        QCOMPARE(previous->session, first);
        registry.release("CP1", first);  // late: the successor stays
        QCOMPARE(registry.find("CP1")->session, second);
        registry.release("CP1", second);
        QVERIFY(!registry.find("CP1"));
        QCOMPARE(registry.size(), 0);
    }

    void heldByNewer()
    {
        ClientRegistry registry;
        const quint64 dropped = registry.newSessionSerial();
        QVERIFY(!registry.claim("CP1", {0, dropped}));
        QVERIFY(!registry.heldByNewer("CP1", dropped));
        registry.release("CP1", dropped);  // gone, its notice not sent yet
        QVERIFY(!registry.heldByNewer("CP1", dropped));
        const quint64 back = registry.newSessionSerial();
        QVERIFY(!registry.claim("CP1", {1, back}));
        QVERIFY(registry.heldByNewer("CP1", dropped));
        QVERIFY(!registry.heldByNewer("CP1", back));
        QVERIFY(!registry.heldByNewer("CP2", dropped));
    }
};

QTEST_GUILESS_MAIN(TestClientRegistry)
#include "tst_clientregistry.moc"
