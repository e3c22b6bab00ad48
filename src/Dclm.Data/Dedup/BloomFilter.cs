namespace Dclm.Data.Dedup;

/// <summary>
/// A Bloom filter over 64-bit keys with k probes by double hashing (Kirsch–Mitzenmacher: h1 + i·h2). Sized as
/// m = −n·ln p / (ln 2)² bits and k = ⌈(m/n)·ln 2⌉ for n expected keys at false-positive rate p, so its memory is
/// m/8 bytes: about 1.2 bytes per expected n-gram at p = 0.01.
/// </summary>
public sealed class BloomFilter
{
    private readonly ulong[] _words;
    private readonly ulong _bitCount;

    /// <summary>Creates a filter of <paramref name="bitCount"/> bits and <paramref name="hashCount"/> probes.</summary>
    public BloomFilter(ulong bitCount, int hashCount)
    {
        if (bitCount < 64) bitCount = 64;
        _words = new ulong[(bitCount + 63) / 64];
        _bitCount = (ulong)_words.Length * 64;
        HashCount = Math.Max(1, hashCount);
    }

    /// <summary>Number of probes per key.</summary>
    public int HashCount { get; }

    /// <summary>Memory held by the bit array.</summary>
    public long SizeInBytes => _words.LongLength * 8;

    /// <summary>Bits needed for <paramref name="expectedKeys"/> keys at <paramref name="falsePositiveRate"/>.</summary>
    public static ulong OptimalBits(long expectedKeys, double falsePositiveRate) =>
        (ulong)Math.Ceiling(-Math.Max(1, expectedKeys) * Math.Log(falsePositiveRate) / (Math.Log(2) * Math.Log(2)));

    /// <summary>Probes per key for a filter of <paramref name="bits"/> bits holding <paramref name="expectedKeys"/> keys.</summary>
    public static int OptimalHashCount(ulong bits, long expectedKeys) =>
        (int)Math.Ceiling((double)bits / Math.Max(1, expectedKeys) * Math.Log(2));

    /// <summary>Sizes a filter for the expected keys and rate, refusing to exceed <paramref name="maximumBytes"/>.</summary>
    public static BloomFilter Create(long expectedKeys, double falsePositiveRate, long maximumBytes)
    {
        var bits = OptimalBits(expectedKeys, falsePositiveRate);
        if ((long)(bits / 8) > maximumBytes)
            throw new InvalidOperationException($"Bloom filter for {expectedKeys} n-grams at false-positive rate {falsePositiveRate} needs {bits / 8 >> 20} MiB, above the {maximumBytes >> 20} MiB limit (dedup.bff.max_memory_mb)");
        return new BloomFilter(bits, OptimalHashCount(bits, expectedKeys));
    }

    /// <summary>Expected false-positive rate after <paramref name="insertedKeys"/> insertions: (1 − e^(−kn/m))^k.</summary>
    public double FalsePositiveRate(long insertedKeys) =>
        Math.Pow(1 - Math.Exp(-(double)HashCount * insertedKeys / _bitCount), HashCount);

    /// <summary>True when every probe bit of <paramref name="key"/> is set (the key was probably inserted).</summary>
    public bool Contains(ulong key)
    {
        var (h1, h2) = Probes(key);
        for (int i = 0; i < HashCount; i++)
        {
            ulong bit = (h1 + (ulong)i * h2) % _bitCount;
            if ((_words[bit >> 6] & (1UL << (int)(bit & 63))) == 0) return false;
        }
        return true;
    }

    // Keys are re-mixed so that a partitioned filter, which only sees keys ≡ p (mod P), still spreads over all bits.
    private static (ulong H1, ulong H2) Probes(ulong key) =>
        (StableHash.Mix(key + 0x9E3779B97F4A7C15UL), StableHash.Mix(key ^ 0xA5A5A5A5A5A5A5A5UL) | 1);

    /// <summary>Sets every probe bit of <paramref name="key"/>.</summary>
    public void Add(ulong key)
    {
        var (h1, h2) = Probes(key);
        for (int i = 0; i < HashCount; i++)
        {
            ulong bit = (h1 + (ulong)i * h2) % _bitCount;
            _words[bit >> 6] |= 1UL << (int)(bit & 63);
        }
    }
}
