using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Dclm.Tensors.Compute;

/// <summary>
/// Flash attention of a tile of query rows that share one key/value head (the query heads of a group, at one or more
/// positions of one sequence) over runs of cached keys and values. Each chunk of up to <see cref="ChunkPositions"/>
/// keys and values is read once for the whole tile, not once per row, and each row keeps a running softmax
/// (the online normaliser of Milakov and Gimelshein, as in FlashAttention):
/// <code>
/// s_j = (q·k_j)·σ_j·scale − slope·(position − j)   for j in [first, position], −∞ elsewhere
/// m' = max(m, max_j s_j);  c = e^(m − m');  p_j = e^(s_j − m')
/// l' = l·c + Σ_j p_j;      o' = o·c + Σ_j p_j·τ_j·v_j;      out = o / l
/// </code>
/// where σ_j and τ_j are an int8 key's and value's scales (1 for f32) and slope is the row's ALiBi slope (0 for none).
/// <para>
/// A row's result depends only on its own query, position and window and on the cached keys and values, never on the
/// other rows of its tile or on where the caller's runs start: runs are cut into chunks at multiples of sixteen
/// positions, a chunk's scores sit in fixed lanes (position mod 16) with what the row may not see at −∞, and a
/// chunk split over runs (cache blocks, a run's ragged ends) is gathered into a whole one so that every score takes
/// the same path and every chunk is one softmax update. A token therefore attends with the same bits whether it is
/// decoded alone, in a batch, or verified among draft tokens, and whatever the cache's block size.
/// </para>
/// <para>
/// Levels: the scores are <see cref="AttentionScores"/>' kernels (sixteen positions at once at AVX-512), the weighted
/// values <see cref="AttentionValues"/>' (bit-identical at every level), and the softmax update is plain C# with
/// <see cref="MathF.Exp"/> in the scalar reference, or 256-bit or 512-bit vectors. One tile per thread; it allocates
/// nothing after construction.
/// </para>
/// </summary>
public sealed unsafe class AttentionTile
{
    /// <summary>Positions a chunk holds; chunks start at multiples of it.</summary>
    public const int ChunkPositions = 16;

    private static readonly Vector512<int> Lanes512 = Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    private static readonly Vector256<int> Lanes256 = Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7);

    private readonly KernelIsa _isa;
    private readonly bool _blocked;
    // Per row: its query and running output o (rows, headDim); running max m and sum l, ALiBi slope, position and first
    // visible position (rows).
    private readonly float[] _queries, _output, _max, _sum, _slopes;
    private readonly int[] _positions, _firsts;
    // One chunk's keys and values when they are copied: a partial chunk into its lanes of a whole one, or int8
    // widened to floats. (16, headDim) each
    private readonly float[] _keys, _values;
    // Up to four rows' scores, then their weights (4, 16); and one chunk's int8 key and value scales (16) each.
    private readonly float[] _scores = new float[4 * ChunkPositions], _keyScales = new float[ChunkPositions], _valueScales = new float[ChunkPositions];
    private int _rows, _firstVisible, _lastVisible;
    // The chunk being gathered in _keys and _values (−1 for none), its lanes [_pendingLo, _pendingHi) and their type.
    private int _pendingChunk = -1, _pendingLo, _pendingHi;
    private bool _pendingInt8;
    private float _scale;
    private bool _alibi;

    /// <summary>A tile of up to <paramref name="capacity"/> rows of heads <paramref name="headDim"/> wide, with this processor's best kernels.</summary>
    public AttentionTile(int capacity, int headDim) : this(capacity, headDim, KernelIsaInfo.Best)
    {
    }

    /// <summary>The same with the kernels of one instruction-set level, for tests.</summary>
    internal AttentionTile(int capacity, int headDim, KernelIsa isa)
    {
        if (capacity <= 0) throw new ArgumentOutOfRangeException(nameof(capacity), "a tile needs at least one row");
        if (headDim <= 0) throw new ArgumentOutOfRangeException(nameof(headDim), "heads need at least one value");
        if (!KernelIsaInfo.IsSupported(isa)) throw new PlatformNotSupportedException($"this processor does not run {isa} kernels");
        (Capacity, HeadDim, _isa, _blocked) = (capacity, headDim, isa, AttentionScores.Blocked(headDim, isa));
        _queries = new float[capacity * headDim];
        _output = new float[capacity * headDim];
        _max = new float[capacity];
        _sum = new float[capacity];
        _slopes = new float[capacity];
        _positions = new int[capacity];
        _firsts = new int[capacity];
        _keys = new float[ChunkPositions * headDim];
        _values = new float[ChunkPositions * headDim];
    }

    /// <summary>Most rows a tile holds.</summary>
    public int Capacity { get; }
    /// <summary>Width of a head.</summary>
    public int HeadDim { get; }
    /// <summary>Rows of the current tile.</summary>
    public int Rows => _rows;

    /// <summary>Starts a tile of <paramref name="rows"/> rows whose scores are scaled by <paramref name="scale"/> (1/√headDim).</summary>
    public void Start(int rows, float scale)
    {
        if ((uint)rows > (uint)Capacity) throw new ArgumentOutOfRangeException(nameof(rows), $"a tile of {Capacity} rows cannot hold {rows}");
        (_rows, _scale, _alibi, _firstVisible, _lastVisible, _pendingChunk) = (rows, scale, false, int.MaxValue, -1, -1);
        _max.AsSpan(0, rows).Fill(float.NegativeInfinity);
        _sum.AsSpan(0, rows).Clear();
        _output.AsSpan(0, rows * HeadDim).Clear();
    }

    /// <summary>
    /// Row <paramref name="row"/>: its query (headDim), the position it attends from (it sees keys at positions
    /// [<paramref name="first"/>, <paramref name="position"/>]) and its ALiBi slope (0 without ALiBi).
    /// </summary>
    public void SetRow(int row, ReadOnlySpan<float> query, int position, int first, float slope = 0)
    {
        if ((uint)row >= (uint)_rows) throw new ArgumentOutOfRangeException(nameof(row), $"row {row} is outside the tile's {_rows} rows");
        if (query.Length != HeadDim) throw new ArgumentException($"a query has {HeadDim} values, not {query.Length}", nameof(query));
        if (first < 0 || first > position) throw new ArgumentOutOfRangeException(nameof(first), $"the first visible position {first} must lie in [0, {position}]");
        query.CopyTo(_queries.AsSpan(row * HeadDim, HeadDim));
        (_positions[row], _firsts[row], _slopes[row]) = (position, first, slope);
        _alibi |= slope != 0;
        _firstVisible = Math.Min(_firstVisible, first);
        _lastVisible = Math.Max(_lastVisible, position);
    }

    /// <summary>
    /// Attends every row to the f32 keys and values of positions [<paramref name="start"/>, start + <paramref name="count"/>),
    /// position start + i at index i·<paramref name="stride"/> of each (headDim values). Runs come in position order; a
    /// chunk of sixteen positions split over several runs (cache blocks smaller than a chunk, or a run that ends
    /// mid-chunk) is gathered and attended when it is whole, when a run starts elsewhere, or at <see cref="Finish"/>.
    /// </summary>
    public void Attend(ReadOnlySpan<float> keys, ReadOnlySpan<float> values, int stride, int start, int count)
    {
        CheckRun(keys.Length, values.Length, stride, start, count);
        int d = HeadDim;
        fixed (float* k = keys)
        fixed (float* v = values)
            for (int p = start, end = start + count, next; p < end; p = next)
            {
                next = Math.Min(end, (p / ChunkPositions + 1) * ChunkPositions);
                int chunk = p - p % ChunkPositions, lo = p - chunk, hi = next - chunk;
                long at = (long)(p - start) * stride;
                if (Continue(chunk, lo, int8: false) && lo == 0 && hi == ChunkPositions)
                {
                    Chunk(k + at, stride, v + at, stride, chunk, lo, hi, int8: false);
                    continue;
                }
                if (Visible(chunk, lo, hi))
                {
                    var (valuesFrom, valuesTo) = ValueLanes(chunk, lo, hi);
                    for (int j = lo; j < hi; j++)
                    {
                        long from = at + (long)(j - lo) * stride;
                        new ReadOnlySpan<float>(k + from, d).CopyTo(_keys.AsSpan(j * d, d));
                        if (j >= valuesFrom && j < valuesTo) new ReadOnlySpan<float>(v + from, d).CopyTo(_values.AsSpan(j * d, d));
                    }
                }
                Pend(chunk, lo, hi, int8: false);
            }
    }

    /// <summary>
    /// The same over int8 keys and values with one scale per position, position start + i's at index
    /// i·<paramref name="scaleStride"/> of <paramref name="keyScales"/> and <paramref name="valueScales"/>. Each chunk
    /// is widened to floats once for the whole tile.
    /// </summary>
    public void Attend(ReadOnlySpan<sbyte> keys, ReadOnlySpan<sbyte> values, ReadOnlySpan<float> keyScales, ReadOnlySpan<float> valueScales,
        int stride, int scaleStride, int start, int count)
    {
        CheckRun(keys.Length, values.Length, stride, start, count);
        if (count > 0 && (scaleStride < 0 || Math.Min(keyScales.Length, valueScales.Length) < (long)(count - 1) * scaleStride + 1))
            throw new ArgumentException($"scales hold {Math.Min(keyScales.Length, valueScales.Length)} values, fewer than {count} positions {scaleStride} apart");
        int d = HeadDim;
        for (int p = start, end = start + count, next; p < end; p = next)
        {
            next = Math.Min(end, (p / ChunkPositions + 1) * ChunkPositions);
            int chunk = p - p % ChunkPositions, lo = p - chunk, hi = next - chunk;
            Continue(chunk, lo, int8: true);
            if (Visible(chunk, lo, hi))
            {
                // Keys of every lane, values only where some row looks.
                var (valuesFrom, valuesTo) = ValueLanes(chunk, lo, hi);
                for (int j = lo; j < hi; j++)
                {
                    int i = p - start + j - lo;
                    Widen(keys.Slice(i * stride, d), _keys.AsSpan(j * d, d));
                    _keyScales[j] = keyScales[i * scaleStride];
                    _valueScales[j] = valueScales[i * scaleStride];
                    if (j >= valuesFrom && j < valuesTo) Widen(values.Slice(i * stride, d), _values.AsSpan(j * d, d));
                }
            }
            Pend(chunk, lo, hi, int8: true);
        }
    }

    /// <summary>Row <paramref name="row"/>'s attention output, o / l (headDim): zeros for a row that saw no key.</summary>
    public void Finish(int row, Span<float> destination)
    {
        if ((uint)row >= (uint)_rows) throw new ArgumentOutOfRangeException(nameof(row), $"row {row} is outside the tile's {_rows} rows");
        if (destination.Length < HeadDim) throw new ArgumentException($"destination holds {destination.Length} values, a head has {HeadDim}", nameof(destination));
        Flush();
        var output = _output.AsSpan(row * HeadDim, HeadDim);
        if (_sum[row] > 0) TensorPrimitives.Divide(output, _sum[row], destination[..HeadDim]);
        else destination[..HeadDim].Clear();
    }

    private void CheckRun(int keys, int values, int stride, int start, int count)
    {
        if (count < 0 || start < 0) throw new ArgumentOutOfRangeException(nameof(count), "start and count must be non-negative");
        if (stride < HeadDim) throw new ArgumentOutOfRangeException(nameof(stride), $"a stride of {stride} is narrower than a head of {HeadDim}");
        long need = count == 0 ? 0 : (long)(count - 1) * stride + HeadDim;
        if (keys < need || values < need)
            throw new ArgumentException($"keys and values hold {Math.Min(keys, values)} values, fewer than {count} positions {stride} apart of width {HeadDim}");
    }

    /// <summary>
    /// Makes ready for lanes from <paramref name="lo"/> of <paramref name="chunk"/>: a gathered chunk they do not
    /// continue is attended first. True when nothing is gathered now.
    /// </summary>
    private bool Continue(int chunk, int lo, bool int8)
    {
        if (_pendingChunk >= 0 && (_pendingChunk != chunk || _pendingHi != lo || _pendingInt8 != int8)) Flush();
        return _pendingChunk < 0;
    }

    /// <summary>Records lanes [lo, hi) of <paramref name="chunk"/> as gathered in the scratch, and attends it once whole.</summary>
    private void Pend(int chunk, int lo, int hi, bool int8)
    {
        if (_pendingChunk < 0) (_pendingChunk, _pendingLo, _pendingInt8) = (chunk, lo, int8);
        _pendingHi = hi;
        if (hi == ChunkPositions) Flush();
    }

    /// <summary>Attends the gathered chunk, if any.</summary>
    private void Flush()
    {
        if (_pendingChunk < 0) return;
        int chunk = _pendingChunk;
        _pendingChunk = -1;
        fixed (float* k = _keys)
        fixed (float* v = _values)
            Chunk(k, HeadDim, v, HeadDim, chunk, _pendingLo, _pendingHi, _pendingInt8);
    }

    /// <summary>True when some row sees a position of lanes [lo, hi) of the chunk at <paramref name="chunk"/>.</summary>
    private bool Visible(int chunk, int lo, int hi) => chunk + hi - 1 >= _firstVisible && chunk + lo <= _lastVisible;

    /// <summary>Lanes of [lo, hi) whose values some row weighs.</summary>
    private (int From, int To) ValueLanes(int chunk, int lo, int hi) => (Math.Max(lo, _firstVisible - chunk), Math.Min(hi, _lastVisible - chunk + 1));

    private static void Widen(ReadOnlySpan<sbyte> source, Span<float> destination)
    {
        for (int i = 0; i < source.Length; i++) destination[i] = source[i];
    }

    /// <summary>
    /// Lanes [lo, hi) of the chunk of positions starting at <paramref name="chunk"/>: lane j's key at
    /// keys + j·keyStride, its value at values + j·valueStride (pointers to lane 0, which may lie before the first
    /// lane read); int8 scales in <see cref="_keyScales"/> and <see cref="_valueScales"/>. Every lane's score takes the
    /// same path whether the chunk is whole in the cache or gathered, so gathering changes no bits.
    /// </summary>
    private void Chunk(float* keys, long keyStride, float* values, long valueStride, int chunk, int lo, int hi, bool int8)
    {
        if (!Visible(chunk, lo, hi)) return;
        int r = 0;
        fixed (float* queries = _queries)
        fixed (float* output = _output)
        fixed (float* s = _scores)
        {
            // Four rows at once where all four see some lane: each key and value load then feeds four rows (the scores
            // and weighted values of a 4-row register tile), with each row's arithmetic unchanged.
            if (_blocked)
                for (; r + 4 <= _rows; r += 4)
                    if (!Rows4(queries, output, s, keys, keyStride, values, valueStride, chunk, lo, hi, int8, r))
                        for (int i = r; i < r + 4; i++) Row(queries, output, s, keys, keyStride, values, valueStride, chunk, lo, hi, int8, i);
            for (; r < _rows; r++) Row(queries, output, s, keys, keyStride, values, valueStride, chunk, lo, hi, int8, r);
        }
    }

    /// <summary>One row's scores, softmax update and weighted values over the chunk.</summary>
    private void Row(float* queries, float* output, float* s, float* keys, long keyStride, float* values, long valueStride,
        int chunk, int lo, int hi, bool int8, int r)
    {
        // Lanes this row sees: its window and causal limit within the chunk's lanes.
        int d = HeadDim, from = Math.Max(lo, _firsts[r] - chunk), to = Math.Min(hi, _positions[r] - chunk + 1);
        if (from >= to) return;
        float* q = queries + (long)r * d;
        if (_blocked) AttentionScores.Block16<AttentionScores.F32Keys>(q, (byte*)keys, 0, keyStride, d, s);
        else if (_isa >= KernelIsa.Avx2)
            for (int j = from; j < to; j++) s[j] = AttentionScores.Avx2Dot<AttentionScores.F32Keys>(q, (byte*)keys, j * keyStride, d);
        else
            for (int j = from; j < to; j++) s[j] = AttentionScores.ScalarDot<AttentionScores.F32Keys>(q, (byte*)keys, j * keyStride, d);
        if (!Update(r, 0, chunk, from, to, int8)) return;
        AttentionValues.AddWeighted(values + from * valueStride, valueStride, to - from, s + from, output + (long)r * d, d, _isa);
    }

    /// <summary>
    /// Rows r to r + 3 together (AVX-512, whole chunks of keys in lanes): false, doing nothing, unless each sees a lane.
    /// Lanes only some of the rows see go one row at a time before and after the lanes all four see, so each output
    /// element still takes its positions' multiply-adds in order.
    /// </summary>
    private bool Rows4(float* queries, float* output, float* s, float* keys, long keyStride, float* values, long valueStride,
        int chunk, int lo, int hi, bool int8, int r)
    {
        int d = HeadDim;
        int f0 = Math.Max(lo, _firsts[r] - chunk), f1 = Math.Max(lo, _firsts[r + 1] - chunk), f2 = Math.Max(lo, _firsts[r + 2] - chunk), f3 = Math.Max(lo, _firsts[r + 3] - chunk);
        int t0 = Math.Min(hi, _positions[r] - chunk + 1), t1 = Math.Min(hi, _positions[r + 1] - chunk + 1);
        int t2 = Math.Min(hi, _positions[r + 2] - chunk + 1), t3 = Math.Min(hi, _positions[r + 3] - chunk + 1);
        if (f0 >= t0 || f1 >= t1 || f2 >= t2 || f3 >= t3) return false;
        AttentionScores.Block16Rows4(queries + (long)r * d, keys, keyStride, d, s);
        // A row whose lanes are all −∞ (no finite score) adds nothing; the others then go one by one.
        bool s0 = Update(r, 0, chunk, f0, t0, int8), s1 = Update(r + 1, 1, chunk, f1, t1, int8);
        bool s2 = Update(r + 2, 2, chunk, f2, t2, int8), s3 = Update(r + 3, 3, chunk, f3, t3, int8);
        int jointFrom = Math.Max(Math.Max(f0, f1), Math.Max(f2, f3)), jointTo = Math.Min(Math.Min(t0, t1), Math.Min(t2, t3));
        if (!(s0 && s1 && s2 && s3) || jointFrom >= jointTo) jointFrom = jointTo = int.MaxValue;
        ReadOnlySpan<(int From, int To, bool Seen)> lanes = [(f0, t0, s0), (f1, t1, s1), (f2, t2, s2), (f3, t3, s3)];
        for (int i = 0; i < 4; i++)
        {
            var (from, to, seen) = lanes[i];
            if (!seen) continue;
            int before = Math.Min(to, jointFrom);
            if (before > from)
                AttentionValues.AddWeighted(values + from * valueStride, valueStride, before - from, s + i * ChunkPositions + from, output + (long)(r + i) * d, d, _isa);
        }
        if (jointFrom == int.MaxValue) return true;
        AttentionValues.AddWeightedRows4(values + jointFrom * valueStride, valueStride, jointTo - jointFrom, s + jointFrom, ChunkPositions, output + (long)r * d, d);
        for (int i = 0; i < 4; i++)
        {
            var (_, to, _) = lanes[i];
            if (to > jointTo)
                AttentionValues.AddWeighted(values + jointTo * valueStride, valueStride, to - jointTo, s + i * ChunkPositions + jointTo, output + (long)(r + i) * d, d, _isa);
        }
        return true;
    }

    /// <summary>
    /// Turns row r's scores in lanes [from, to) of slot <paramref name="slot"/> of <see cref="_scores"/> (lanes from
    /// 16·slot; slot 0 below AVX-512) into weights p_j·τ_j, and updates its max, sum
    /// and output for the new max. False when the row saw nothing finite (its state is then unchanged).
    /// </summary>
    private bool Update(int r, int slot, int chunk, int from, int to, bool int8)
    {
        float max = _max[r], newMax, sum;
        if (_isa == KernelIsa.Avx512) (newMax, sum) = Update512(r, slot, chunk, from, to, int8, max);
        else if (_isa == KernelIsa.Avx2) (newMax, sum) = Update256(r, chunk, from, to, int8, max);
        else (newMax, sum) = UpdateScalar(r, chunk, from, to, int8, max);
        if (float.IsNegativeInfinity(newMax)) return false;
        if (newMax != max && !float.IsNegativeInfinity(max))
        {
            // The old terms were relative to e^max: rescale them to e^newMax (from −∞ there were none).
            float correction = MathF.Exp(max - newMax);
            _sum[r] *= correction;
            var output = _output.AsSpan(r * HeadDim, HeadDim);
            TensorPrimitives.Multiply(output, correction, output);
        }
        _sum[r] += sum;
        _max[r] = newMax;
        return true;
    }

    /// <summary>The reference: one lane at a time, in order.</summary>
    private (float Max, float Sum) UpdateScalar(int r, int chunk, int from, int to, bool int8, float max)
    {
        var s = _scores;
        float slope = _slopes[r];
        int position = _positions[r];
        for (int j = from; j < to; j++)
        {
            float score = (int8 ? s[j] * _keyScales[j] : s[j]) * _scale;
            if (_alibi) score -= slope * (position - (chunk + j));
            s[j] = score;
            max = MathF.Max(max, score);
        }
        if (float.IsNegativeInfinity(max)) return (max, 0);
        float sum = 0;
        for (int j = from; j < to; j++)
        {
            float p = MathF.Exp(s[j] - max);
            sum += p;
            s[j] = int8 ? p * _valueScales[j] : p;
        }
        return (max, sum);
    }

    /// <summary>All sixteen lanes in one vector; lanes outside [from, to) are −∞ before the exponential, so 0 after.</summary>
    private (float Max, float Sum) Update512(int r, int slot, int chunk, int from, int to, bool int8, float max)
    {
        fixed (float* scores = _scores)
        fixed (float* keyScales = _keyScales)
        fixed (float* valueScales = _valueScales)
        {
            float* s = scores + slot * ChunkPositions;
            var score = Vector512.Load(s);
            if (int8) score *= Vector512.Load(keyScales);
            score *= Vector512.Create(_scale);
            if (_alibi) score -= Vector512.Create(_slopes[r]) * Vector512.ConvertToSingle(Vector512.Create(_positions[r] - chunk) - Lanes512);
            var seen = Vector512.GreaterThanOrEqual(Lanes512, Vector512.Create(from)) & Vector512.LessThan(Lanes512, Vector512.Create(to));
            score = Vector512.ConditionalSelect(seen.AsSingle(), score, Vector512.Create(float.NegativeInfinity));
            var top = Vector256.Max(score.GetLower(), score.GetUpper());
            max = MathF.Max(max, MaxAcross(top));
            if (float.IsNegativeInfinity(max)) return (max, 0);
            var p = Vector512.Exp(score - Vector512.Create(max));
            float sum = FloatReduction.Sum(p);
            if (int8) p *= Vector512.Load(valueScales);
            p.Store(s);
            return (max, sum);
        }
    }

    /// <summary>Two halves of eight lanes, as <see cref="Update512"/> does with one vector.</summary>
    private (float Max, float Sum) Update256(int r, int chunk, int from, int to, bool int8, float max)
    {
        fixed (float* s = _scores)
        fixed (float* keyScales = _keyScales)
        fixed (float* valueScales = _valueScales)
        {
            Vector256<float> low = Vector256.Load(s), high = Vector256.Load(s + 8);
            if (int8) (low, high) = (low * Vector256.Load(keyScales), high * Vector256.Load(keyScales + 8));
            var scale = Vector256.Create(_scale);
            (low, high) = (low * scale, high * scale);
            if (_alibi)
            {
                var slope = Vector256.Create(_slopes[r]);
                var distance = Vector256.Create(_positions[r] - chunk) - Lanes256;
                low -= slope * Vector256.ConvertToSingle(distance);
                high -= slope * Vector256.ConvertToSingle(distance - Vector256.Create(8));
            }
            var infinity = Vector256.Create(float.NegativeInfinity);
            Vector256<int> fromLanes = Vector256.Create(from), toLanes = Vector256.Create(to), highLanes = Lanes256 + Vector256.Create(8);
            low = Vector256.ConditionalSelect((Vector256.GreaterThanOrEqual(Lanes256, fromLanes) & Vector256.LessThan(Lanes256, toLanes)).AsSingle(), low, infinity);
            high = Vector256.ConditionalSelect((Vector256.GreaterThanOrEqual(highLanes, fromLanes) & Vector256.LessThan(highLanes, toLanes)).AsSingle(), high, infinity);
            max = MathF.Max(max, MaxAcross(Vector256.Max(low, high)));
            if (float.IsNegativeInfinity(max)) return (max, 0);
            var shift = Vector256.Create(max);
            Vector256<float> pLow = Vector256.Exp(low - shift), pHigh = Vector256.Exp(high - shift);
            float sum = Vector256.Sum(pLow + pHigh);
            if (int8) (pLow, pHigh) = (pLow * Vector256.Load(valueScales), pHigh * Vector256.Load(valueScales + 8));
            pLow.Store(s);
            pHigh.Store(s + 8);
            return (max, sum);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float MaxAcross(Vector256<float> v)
    {
        var m = Vector128.Max(v.GetLower(), v.GetUpper());
        m = Vector128.Max(m, Vector128.Shuffle(m, Vector128.Create(2, 3, 0, 1)));
        m = Vector128.Max(m, Vector128.Shuffle(m, Vector128.Create(1, 0, 3, 2)));
        return m.ToScalar();
    }
}
