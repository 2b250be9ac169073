#pragma once

// What the ws2api-admin widget tests share: a socket name of their own (so suites run
// in parallel), settings kept out of the user's configuration, and a window that
// retries fast.
#include <QCoreApplication>
#include <QSettings>
#include <QStandardPaths>
#include <QTest>
#include <QUuid>
#include <memory>

#include "AdminClient.h"
#include "MainWindow.h"

namespace ws2api::test {

inline QString uniqueSocketName()
{
    return QStringLiteral("ws2api-admin-test-") + QUuid::createUuid().toString(QUuid::Id128).left(12);
}

template <typename T>
T *child(QObject *parent, const char *name)
{
    T *found = parent->findChild<T *>(QLatin1String(name));
    if (!found)
        qFatal("no child %s", name);
    return found;
}

// MainWindow remembers the socket name and layout in QSettings: in a test they go to
// a test location under this test's name, never into the user's real configuration.
inline void useTestSettings(const QString &testName)
{
    QStandardPaths::setTestModeEnabled(true);
    QCoreApplication::setOrganizationName(QStringLiteral("ws2api-test"));
    QCoreApplication::setApplicationName(testName);
}

// Every window starts as on a first run: default size, nothing remembered.
inline void forgetSettings()
{
    QSettings().clear();
}

inline std::unique_ptr<gui::MainWindow> openWindow(const QString &socketName)
{
    auto window = std::make_unique<gui::MainWindow>(socketName);
    window->client()->setRetryDelays(20, 200);
    window->show();
    if (!QTest::qWaitForWindowExposed(window.get()))
        qWarning("window not exposed");
    return window;
}

} // namespace ws2api::test
