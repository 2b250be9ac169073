# ws2api_add_test(NAME SOURCES... [LIBS ...]): one Qt Test binary per class or feature.
# The test is registered with CTest under NAME and runs offscreen with a time limit.
function(ws2api_add_test name)
    cmake_parse_arguments(ARG "" "" "SOURCES;LIBS" ${ARGN})
    add_executable(${name} ${ARG_SOURCES})
    target_link_libraries(${name} PRIVATE Qt6::Test ${ARG_LIBS})
    ws2api_warnings(${name})
    add_test(NAME ${name} COMMAND ${name})
    set_tests_properties(${name} PROPERTIES TIMEOUT 300
        ENVIRONMENT "QT_QPA_PLATFORM=offscreen;QT_LOGGING_RULES=ws2api.*.debug=false")
endfunction()
