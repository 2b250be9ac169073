#pragma once

// A log-linear latency histogram in the manner of HdrHistogram: exact below 256 µs,
// then 128 linear sub-buckets per power of two (under 0.8 % relative error), up to
// 60 s. A fixed array, so recording a sample is a few instructions and no allocation;
// threads keep their own and merge them at the end.

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstdint>

namespace loadgen {

class Histogram
{
public:
    static constexpr int SubBits = 7;
    static constexpr uint64_t SubCount = uint64_t(1) << SubBits;
    static constexpr uint64_t MaxValue = 60'000'000; // µs

    void record(int64_t micros)
    {
        const uint64_t v = micros < 0 ? 0 : std::min<uint64_t>(uint64_t(micros), MaxValue);
        ++m_counts[index(v)];
        ++m_total;
        m_max = std::max(m_max, v);
        m_min = std::min(m_min, v);
    }

    void merge(const Histogram &other)
    {
        for (size_t i = 0; i < m_counts.size(); ++i)
            m_counts[i] += other.m_counts[i];
        m_total += other.m_total;
        m_max = std::max(m_max, other.m_max);
        m_min = std::min(m_min, other.m_min);
    }

    uint64_t count() const { return m_total; }
    uint64_t max() const { return m_total ? m_max : 0; }
    uint64_t min() const { return m_total ? m_min : 0; }

    // The value at or below which `percent` of the samples lie, reported as the
    // middle of its bucket (never above the true maximum).
    uint64_t percentile(double percent) const
    {
        if (m_total == 0)
            return 0;
        const auto wanted = std::max<uint64_t>(1, uint64_t(std::ceil(percent / 100.0 * double(m_total))));
        uint64_t seen = 0;
        for (size_t i = 0; i < m_counts.size(); ++i) {
            seen += m_counts[i];
            if (seen >= wanted)
                return std::min(middle(i), m_max);
        }
        return m_max;
    }

private:
    static size_t index(uint64_t v)
    {
        const int high = 63 - std::countl_zero(v | 1);
        if (high < SubBits)
            return size_t(v);
        const int shift = high - SubBits;
        return size_t(shift + 1) * SubCount + size_t((v >> shift) - SubCount);
    }

    static uint64_t middle(size_t i)
    {
        if (i < 2 * SubCount)
            return i;
        const int shift = int(i / SubCount) - 1;
        const uint64_t low = (i % SubCount + SubCount) << shift;
        return low + ((uint64_t(1) << shift) >> 1);
    }

    static constexpr size_t Buckets = (63 - std::countl_zero(MaxValue) - SubBits + 2) * SubCount;

    std::array<uint64_t, Buckets> m_counts{};
    uint64_t m_total = 0;
    uint64_t m_max = 0;
    uint64_t m_min = UINT64_MAX;
};

} // namespace loadgen
