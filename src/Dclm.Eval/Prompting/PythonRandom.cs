namespace Dclm.Eval.Prompting;

/// <summary>
/// CPython's <c>random.Random</c> for integer seeds, as far as llm-foundry's shot sampling uses it:
/// MT19937 seeded by <c>init_by_array</c> with the seed's 32-bit words, <c>getrandbits</c>, rejection-sampled
/// <c>_randbelow</c>, <c>sample(range(n), k)</c> and <c>choice(range(n))</c>. Same seed, same draws as Python.
/// </summary>
public sealed class PythonRandom
{
    private const int N = 624, M = 397;
    private readonly uint[] _state = new uint[N];
    private int _index = N + 1;

    public PythonRandom(long seed)
    {
        // random.seed(n) for an int: the 32-bit words of |n|, least significant first (at least one).
        ulong magnitude = (ulong)Math.Abs(seed);
        var key = new List<uint> { (uint)magnitude };
        if (magnitude >> 32 != 0) key.Add((uint)(magnitude >> 32));
        InitByArray(key);
    }

    private void InitGenRand(uint seed)
    {
        _state[0] = seed;
        for (int i = 1; i < N; i++) _state[i] = 1812433253u * (_state[i - 1] ^ (_state[i - 1] >> 30)) + (uint)i;
        _index = N;
    }

    private void InitByArray(IReadOnlyList<uint> key)
    {
        InitGenRand(19650218u);
        int i = 1, j = 0;
        for (int k = Math.Max(N, key.Count); k > 0; k--)
        {
            _state[i] = (_state[i] ^ ((_state[i - 1] ^ (_state[i - 1] >> 30)) * 1664525u)) + key[j] + (uint)j;
            i++; j++;
            if (i >= N) { _state[0] = _state[N - 1]; i = 1; }
            if (j >= key.Count) j = 0;
        }
        for (int k = N - 1; k > 0; k--)
        {
            _state[i] = (_state[i] ^ ((_state[i - 1] ^ (_state[i - 1] >> 30)) * 1566083941u)) - (uint)i;
            i++;
            if (i >= N) { _state[0] = _state[N - 1]; i = 1; }
        }
        _state[0] = 0x80000000u;
    }

    /// <summary>The next 32 random bits (MT19937's genrand_uint32).</summary>
    public uint NextUInt32()
    {
        if (_index >= N)
        {
            for (int k = 0; k < N; k++)
            {
                uint y = (_state[k] & 0x80000000u) | (_state[(k + 1) % N] & 0x7fffffffu);
                _state[k] = _state[(k + M) % N] ^ (y >> 1) ^ ((y & 1) != 0 ? 0x9908b0dfu : 0u);
            }
            _index = 0;
        }
        uint x = _state[_index++];
        x ^= x >> 11;
        x ^= (x << 7) & 0x9d2c5680u;
        x ^= (x << 15) & 0xefc60000u;
        x ^= x >> 18;
        return x;
    }

    /// <summary><c>random()</c>: 53 random bits as a double in [0, 1), (a·2²⁶ + b) / 2⁵³ from two 32-bit draws.</summary>
    public double NextDouble()
    {
        uint a = NextUInt32() >> 5, b = NextUInt32() >> 6;
        return (a * 67108864.0 + b) * (1.0 / 9007199254740992.0);
    }

    /// <summary><c>getrandbits(k)</c> for k in [0, 32].</summary>
    public uint GetRandBits(int bits) => bits == 0 ? 0 : NextUInt32() >> (32 - bits);

    /// <summary><c>_randbelow(n)</c>: uniform in [0, n) by rejection on n's bit length.</summary>
    public int RandBelow(int n)
    {
        int bits = 32 - System.Numerics.BitOperations.LeadingZeroCount((uint)n);
        uint r = GetRandBits(bits);
        while (r >= (uint)n) r = GetRandBits(bits);
        return (int)r;
    }

    /// <summary><c>choice(range(n))</c>.</summary>
    public int Choice(int n) => RandBelow(n);

    /// <summary><c>sample(range(n), k)</c>, in Python's draw order.</summary>
    public int[] Sample(int n, int k)
    {
        if (k < 0 || k > n) throw new ArgumentOutOfRangeException(nameof(k), $"cannot sample {k} of {n}");
        var result = new int[k];
        // CPython picks a pool-swap or a rejection-set method by comparing n with an estimate of the set's size.
        int setSize = 21;
        if (k > 5) setSize += (int)Math.Pow(4, Math.Ceiling(Math.Log(k * 3) / Math.Log(4)));
        if (n <= setSize)
        {
            var pool = Enumerable.Range(0, n).ToArray();
            for (int i = 0; i < k; i++)
            {
                int j = RandBelow(n - i);
                result[i] = pool[j];
                pool[j] = pool[n - i - 1];
            }
        }
        else
        {
            var selected = new HashSet<int>();
            for (int i = 0; i < k; i++)
            {
                int j = RandBelow(n);
                while (selected.Contains(j)) j = RandBelow(n);
                selected.Add(j);
                result[i] = j;
            }
        }
        return result;
    }
}
