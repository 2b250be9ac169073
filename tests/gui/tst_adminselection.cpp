// ws2api-admin's connections table against a scripted admin daemon: what the operator
// picks is a ClientId, not a row number. Clients connecting or leaving above the picked
// one shift the rows on the next refresh; the highlight, the current row, the push
// panel and "Disconnect selected" must stay with the picked client, let go of it when
// it leaves, and never land on another one. A disconnect asks first, naming it.
#include <QItemSelectionModel>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPushButton>
#include <QStatusBar>
#include <QTableView>
#include <QTest>

#include "ConnectionsModel.h"
#include "FakeAdminDaemon.h"
#include "GuiTestSupport.h"
#include "MainWindow.h"
#include "PushPanel.h"

using namespace ws2api;
using namespace ws2api::gui;
using namespace ws2api::test;

namespace {

// What the table highlights, as the operator reads it.
QStringList highlightedIds(MainWindow *w)
{
    QStringList ids;
    const QModelIndexList rows = w->connectionsView()->selectionModel()->selectedRows();
    for (const QModelIndex &row : rows)
        ids << w->connectionsModel()->clientIdAt(row.row());
    ids.sort();
    return ids;
}

QString currentId(MainWindow *w)
{
    return w->connectionsModel()->clientIdAt(w->connectionsView()->currentIndex().row());
}

QStringList numbered(int from, int to)
{
    QStringList ids;
    for (int n = from; n <= to; ++n)
        ids << QStringLiteral("CP-%1").arg(n);
    return ids;
}

void clickRow(MainWindow *w, int row)
{
    QTableView *view = w->connectionsView();
    const QRect rect = view->visualRect(w->connectionsModel()->index(row, ConnectionsModel::Remote));
    QTest::mouseClick(view->viewport(), Qt::LeftButton, {}, rect.center());
}

QMessageBox *confirmation(MainWindow *w)
{
    auto *box = w->findChild<QMessageBox *>(QStringLiteral("disconnectConfirmation"));
    return box && box->isVisible() ? box : nullptr;
}

QString disconnected(const FakeAdminDaemon &daemon, int n)
{
    return daemon.requests(QStringLiteral("disconnect")).value(n).body.value(QStringLiteral("clientId")).toString();
}

} // namespace

class TestAdminSelection : public QObject
{
    Q_OBJECT

private:
    QString m_name;

private Q_SLOTS:
    void initTestCase() { useTestSettings(QStringLiteral("tst_adminselection")); }

    void init()
    {
        m_name = uniqueSocketName();
        forgetSettings();
    }

    void selectionFollowsItsClientIdWhenRowsShift_data()
    {
        QTest::addColumn<QStringList>("before");
        QTest::addColumn<QStringList>("after");
        const QString cp0 = QStringLiteral("CP-0"), cp1 = QStringLiteral("CP-1"), cp2 = QStringLiteral("CP-2"),
                      cp10 = QStringLiteral("CP-10");
        QTest::addRow("one connects above") << QStringList{cp1, cp2, cp10} << QStringList{cp0, cp1, cp2, cp10};
        QTest::addRow("two leave above") << QStringList{cp0, cp1, cp2, cp10} << QStringList{cp2, cp10};
        QTest::addRow("one leaves above, one connects below")
            << QStringList{cp1, cp2, cp10} << QStringList{cp2, QStringLiteral("CP-3"), cp10};
    }

    void selectionFollowsItsClientIdWhenRowsShift()
    {
        QFETCH(QStringList, before);
        QFETCH(QStringList, after);
        const QString picked = QStringLiteral("CP-2");
        FakeAdminDaemon daemon;
        daemon.clientIds = before;
        QVERIFY(daemon.listen(m_name));
        auto w = openWindow(m_name);
        ConnectionsModel *model = w->connectionsModel();
        QTRY_COMPARE(model->clientIdAt(int(before.size()) - 1), before.last());
        clickRow(w.get(), int(before.indexOf(picked)));
        auto *pushClientId = child<QLineEdit>(w->pushPanel(), "clientIdEdit");
        QCOMPARE(pushClientId->text(), picked);

        daemon.clientIds = after;
        model->refresh();
        QTRY_COMPARE(model->clientIdAt(0), after.first());
        QTRY_COMPARE(model->clientIdAt(int(after.size()) - 1), after.last());
        QCOMPARE(highlightedIds(w.get()), QStringList{picked});
        QCOMPARE(currentId(w.get()), picked);
        QCOMPARE(pushClientId->text(), picked);

        QTest::mouseClick(child<QPushButton>(w.get(), "disconnectButton"), Qt::LeftButton);
        QTRY_VERIFY(confirmation(w.get()));
        QVERIFY2(confirmation(w.get())->text().contains(picked), qPrintable(confirmation(w.get())->text()));
        QTest::mouseClick(confirmation(w.get())->button(QMessageBox::Yes), Qt::LeftButton);
        QTRY_COMPARE(daemon.count(QStringLiteral("disconnect")), 1);
        QCOMPARE(disconnected(daemon, 0), picked);

        // The keyboard goes on from the picked client, not from its old row.
        QTest::keyClick(w->connectionsView(), Qt::Key_Down);
        QCOMPARE(pushClientId->text(), after.value(after.indexOf(picked) + 1));
    }

    void selectionFollowsItsClientIdIntoTheNextPage()
    {
        // CP-200 is the last row of the first page, until CP-0 connects.
        FakeAdminDaemon daemon;
        daemon.clientIds = numbered(1, 400);
        QVERIFY(daemon.listen(m_name));
        auto w = openWindow(m_name);
        ConnectionsModel *model = w->connectionsModel();
        QTableView *view = w->connectionsView();
        QTRY_VERIFY(model->isLoaded(0));
        view->scrollTo(model->index(199, 0), QAbstractItemView::PositionAtCenter);
        QTRY_COMPARE(model->clientIdAt(200), QStringLiteral("CP-201"));
        clickRow(w.get(), 199);
        QCOMPARE(highlightedIds(w.get()), QStringList{QStringLiteral("CP-200")});

        daemon.clientIds.prepend(QStringLiteral("CP-0"));
        model->refresh();
        QTRY_COMPARE(model->clientIdAt(200), QStringLiteral("CP-200"));
        QTRY_COMPARE(model->clientIdAt(0), QStringLiteral("CP-0"));
        QTRY_COMPARE(highlightedIds(w.get()), QStringList{QStringLiteral("CP-200")});
        QVERIFY(view->selectionModel()->isRowSelected(200));
        QCOMPARE(currentId(w.get()), QStringLiteral("CP-200"));
    }

    void goneClientIsDeselectedNotReplaced()
    {
        FakeAdminDaemon daemon;
        daemon.clientIds = {QStringLiteral("CP-1"), QStringLiteral("CP-2"), QStringLiteral("CP-10")};
        QVERIFY(daemon.listen(m_name));
        auto w = openWindow(m_name);
        ConnectionsModel *model = w->connectionsModel();
        QTRY_COMPARE(model->clientIdAt(2), QStringLiteral("CP-10"));
        clickRow(w.get(), 1);
        auto *pushClientId = child<QLineEdit>(w->pushPanel(), "clientIdEdit");
        QCOMPARE(pushClientId->text(), QStringLiteral("CP-2"));

        // CP-10 moves up into CP-2's row: it must not inherit the highlight.
        daemon.clientIds = {QStringLiteral("CP-1"), QStringLiteral("CP-10")};
        model->refresh();
        QTRY_COMPARE(model->rowCount(), 2);
        QTRY_COMPARE(model->clientIdAt(1), QStringLiteral("CP-10"));
        QCOMPARE(highlightedIds(w.get()), QStringList{});
        QVERIFY(!w->connectionsView()->currentIndex().isValid());  // no cursor on CP-10 either
        QVERIFY2(w->statusBar()->currentMessage().contains(QStringLiteral("CP-2")),
                 qPrintable(w->statusBar()->currentMessage()));
        // Shown in the daemon status's place, which comes back after it; a permanent
        // status would leave the message no room at all.
        auto *daemonStatus = child<QLabel>(w.get(), "daemonStatus");
        QVERIFY(!daemonStatus->isVisible());
        w->statusBar()->clearMessage();
        QVERIFY(daemonStatus->isVisible());
        QCOMPARE(pushClientId->text(), QStringLiteral("CP-2"));  // still the one picked, never CP-10

        QTest::mouseClick(child<QPushButton>(w.get(), "disconnectButton"), Qt::LeftButton);
        QVERIFY(!confirmation(w.get()));
        QVERIFY(w->statusBar()->currentMessage().contains(QStringLiteral("Select")));
        QCOMPARE(daemon.count(QStringLiteral("disconnect")), 0);
    }

    void filterDropsTheClientsItHides()
    {
        FakeAdminDaemon daemon;
        daemon.clientIds = {QStringLiteral("CP-1"), QStringLiteral("CP-2"), QStringLiteral("CP-10")};
        QVERIFY(daemon.listen(m_name));
        auto w = openWindow(m_name);
        ConnectionsModel *model = w->connectionsModel();
        QTRY_COMPARE(model->clientIdAt(2), QStringLiteral("CP-10"));
        clickRow(w.get(), 1);
        QCOMPARE(highlightedIds(w.get()), QStringList{QStringLiteral("CP-2")});

        model->setFilter(QStringLiteral("CP-1"));  // CP-1, CP-10: CP-10 takes row 1
        QTRY_COMPARE(model->rowCount(), 2);
        QTRY_COMPARE(model->clientIdAt(1), QStringLiteral("CP-10"));
        QCOMPARE(highlightedIds(w.get()), QStringList{});
        QTest::mouseClick(child<QPushButton>(w.get(), "disconnectButton"), Qt::LeftButton);
        QVERIFY(!confirmation(w.get()));
        QCOMPARE(daemon.count(QStringLiteral("disconnect")), 0);
    }

    void selectingARowFillsThePushClientId()
    {
        FakeAdminDaemon daemon;
        daemon.total = 10;
        QVERIFY(daemon.listen(m_name));
        auto w = openWindow(m_name);
        QTRY_VERIFY(w->connectionsModel()->isLoaded(9));
        auto *clientId = child<QLineEdit>(w->pushPanel(), "clientIdEdit");
        clickRow(w.get(), 3);
        QCOMPARE(clientId->text(), QStringLiteral("cp-000003"));
        QTest::keyClick(w->connectionsView(), Qt::Key_Down);
        QCOMPARE(clientId->text(), QStringLiteral("cp-000004"));
        // The push and the disconnect aim at the same client.
        QTest::mouseClick(child<QPushButton>(w.get(), "disconnectButton"), Qt::LeftButton);
        QTRY_VERIFY(confirmation(w.get()));
        QTest::mouseClick(confirmation(w.get())->button(QMessageBox::Yes), Qt::LeftButton);
        QTRY_COMPARE(daemon.count(QStringLiteral("disconnect")), 1);
        QCOMPARE(disconnected(daemon, 0), clientId->text());
    }

    void disconnectAsksFirstNamingTheClients()
    {
        FakeAdminDaemon daemon;
        daemon.total = 10;
        QVERIFY(daemon.listen(m_name));
        auto w = openWindow(m_name);
        QTRY_VERIFY(w->connectionsModel()->isLoaded(9));
        clickRow(w.get(), 3);

        // Delete in the table is the same action; Cancel (the default) sends nothing.
        QTest::keyClick(w->connectionsView(), Qt::Key_Delete);
        QTRY_VERIFY(confirmation(w.get()));
        QMessageBox *box = confirmation(w.get());
        QVERIFY2(box->text().contains(QStringLiteral("cp-000003")), qPrintable(box->text()));
        QCOMPARE(box->defaultButton(), box->button(QMessageBox::Cancel));
        QTest::mouseClick(box->button(QMessageBox::Cancel), Qt::LeftButton);
        QTRY_VERIFY(!confirmation(w.get()));
        QCOMPARE(daemon.count(QStringLiteral("disconnect")), 0);

        // Two clients, both named; what was asked about is what goes, whatever the
        // selection does while the question is open.
        QTest::mouseClick(w->connectionsView()->viewport(), Qt::LeftButton, Qt::ControlModifier,
                          w->connectionsView()->visualRect(w->connectionsModel()->index(5, 1)).center());
        QCOMPARE(highlightedIds(w.get()), (QStringList{QStringLiteral("cp-000003"), QStringLiteral("cp-000005")}));
        QTest::mouseClick(child<QPushButton>(w.get(), "disconnectButton"), Qt::LeftButton);
        QTRY_VERIFY(confirmation(w.get()));
        box = confirmation(w.get());
        QVERIFY2(box->text().contains(QStringLiteral("cp-000003")) && box->text().contains(QStringLiteral("cp-000005")),
                 qPrintable(box->text()));
        w->connectionsView()->clearSelection();
        QTest::mouseClick(box->button(QMessageBox::Yes), Qt::LeftButton);
        QTRY_COMPARE(daemon.count(QStringLiteral("disconnect")), 2);
        QCOMPARE((QStringList{disconnected(daemon, 0), disconnected(daemon, 1)}),
                 (QStringList{QStringLiteral("cp-000003"), QStringLiteral("cp-000005")}));
        QTRY_VERIFY(w->statusBar()->currentMessage().startsWith(QStringLiteral("Disconnected")));
    }
};

QTEST_MAIN(TestAdminSelection)
#include "tst_adminselection.moc"
