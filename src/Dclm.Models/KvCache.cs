namespace Dclm.Models;

/// <summary>How the KV cache stores keys and values.</summary>
public enum KvCacheType
{
    /// <summary>32-bit floats: exact.</summary>
    F32,
    /// <summary>
    /// 8-bit integers with one float scale per position and head (scale = max|x|/127): a quarter of the
    /// memory, at a small, measured cost in accuracy (see the quantization quality report).
    /// </summary>
    Int8,
}

/// <summary>
/// Keys and values of past positions, managed in blocks of <see cref="BlockSize"/> positions (a paged
/// cache). Each sequence slot has a block table; blocks are reference-counted, so slots can share a
/// prefix (<see cref="CopyPrefix"/>) without copying, and a shared block is copied only when a slot
/// writes into it. Slots decode independently, each at its own position.
/// <para>
/// Rolling: for a model with a sliding window W, a query at position p reads positions ≥ p − W + 1 only, so once a
/// slot holds L positions every block that ends before L − W + 1 − <see cref="BlockSize"/> is returned to the pool
/// (one block of slack keeps a rewind of up to <see cref="BlockSize"/> positions possible). A slot then holds at most
/// ⌊(W − 2)/B⌋ + 3 blocks between steps, however long it grows; within a step it also holds the blocks that step
/// writes. Positions keep their absolute numbers: the block table simply starts at <see cref="HeldFrom"/>.
/// </para>
/// </summary>
public sealed class KvCache
{
    /// <summary>Positions per block unless the caller chooses otherwise.</summary>
    public const int DefaultBlockSize = 16;

    // Per layer, kvd = kvHeads·headDim: keys and values apart, (blocks, blockSize, kvd) each, float; or int8 plus
    // per-(position, kv head) scales (blocks, blockSize, kvHeads). The other type's arrays are empty.
    private readonly float[][] _keys;
    private readonly float[][] _values;
    private readonly sbyte[][] _keys8;
    private readonly sbyte[][] _values8;
    private readonly float[][] _keyScales;
    private readonly float[][] _valueScales;
    private readonly int _headDim;
    // Valid positions of each slot. (slots)
    private readonly int[] _lengths;
    // Each slot's block table: its i-th held block, of positions from (_dropped[slot] + i)·blockSize, is block
    // _tables[slot][i] of the pool. (slots, blocks held)
    private readonly List<int>[] _tables;
    // Leading blocks of each slot returned because the sliding window no longer reaches them. (slots)
    private readonly int[] _dropped;
    // Slots holding each block. (blocks)
    private readonly int[] _references;
    private readonly Stack<int> _free;
    // Values of keys (or values) in one block of one layer: blockSize·kvd.
    private readonly int _blockFloats;

    /// <summary>A cache of <paramref name="slots"/> sequences of up to <paramref name="capacity"/> positions each, all of which fit at once.</summary>
    public KvCache(ModelConfig config, int slots, int capacity, int blockSize = DefaultBlockSize)
        : this(config, slots, capacity, blockSize, blocks: slots * ((Math.Max(1, capacity) + Math.Max(1, blockSize) - 1) / Math.Max(1, blockSize)))
    {
    }

    /// <summary>
    /// A cache of <paramref name="blocks"/> blocks shared by <paramref name="slots"/> sequences of up to
    /// <paramref name="capacity"/> positions each; fewer blocks than slots × capacity overcommits, and a
    /// scheduler then admits work by <see cref="FreeBlocks"/>. With <paramref name="rolling"/> (the default) and a model
    /// with a sliding window, blocks the window has passed are returned to the pool; false keeps every position.
    /// </summary>
    public KvCache(ModelConfig config, int slots, int capacity, int blockSize, int blocks, KvCacheType type, bool rolling)
        : this(config, slots, capacity, blockSize, blocks, type)
    {
        Window = rolling ? config.SlidingWindow : 0;
    }

    /// <summary>
    /// A cache of <paramref name="blocks"/> blocks shared by <paramref name="slots"/> sequences of up to
    /// <paramref name="capacity"/> positions each; fewer blocks than slots × capacity overcommits, and a
    /// scheduler then admits work by <see cref="FreeBlocks"/>.
    /// </summary>
    public KvCache(ModelConfig config, int slots, int capacity, int blockSize, int blocks, KvCacheType type = KvCacheType.F32)
        : this(config, slots, capacity, blockSize, blocks, type, storage: null)
    {
    }

    /// <summary>
    /// A cache that keeps the block tables and reference counts only: keys and values live in <paramref name="storage"/>
    /// (an accelerator's memory) under the same block ids, and a shared block is copied there before a write.
    /// </summary>
    public KvCache(ModelConfig config, int slots, int capacity, int blockSize, int blocks, IKvBlockStorage storage, bool rolling = true)
        : this(config, slots, capacity, blockSize, blocks, KvCacheType.F32, storage ?? throw new ArgumentNullException(nameof(storage)))
    {
        Window = rolling ? config.SlidingWindow : 0;
    }

    private KvCache(ModelConfig config, int slots, int capacity, int blockSize, int blocks, KvCacheType type, IKvBlockStorage? storage)
    {
        if (slots <= 0) throw new ArgumentOutOfRangeException(nameof(slots), "a KV cache needs at least one slot");
        if (capacity <= 0) throw new ArgumentOutOfRangeException(nameof(capacity), "a KV cache needs a positive capacity");
        if (blockSize <= 0) throw new ArgumentOutOfRangeException(nameof(blockSize), "blocks need at least one position");
        if (blocks <= 0) throw new ArgumentOutOfRangeException(nameof(blocks), "a KV cache needs at least one block");
        long perLayer = (long)blocks * blockSize * config.KeyValueDim;
        if (perLayer > Array.MaxLength)
            throw new ArgumentOutOfRangeException(nameof(blocks), $"{blocks} blocks × {blockSize} positions × {config.KeyValueDim} values exceed one layer's limit of {Array.MaxLength}");
        Slots = slots;
        Capacity = capacity;
        BlockSize = blockSize;
        BlockCount = blocks;
        KeyValueDim = config.KeyValueDim;
        Type = type;
        Window = config.SlidingWindow;
        _headDim = config.HeadDim;
        _blockFloats = blockSize * config.KeyValueDim;
        Storage = storage;
        bool quantized = type == KvCacheType.Int8;
        if (storage is not null) perLayer = 0;
        long scales = storage is not null ? 0 : (long)blocks * blockSize * config.KeyValueHeads;
        _keys = Layered<float>(config.Layers, quantized ? 0 : perLayer);
        _values = Layered<float>(config.Layers, quantized ? 0 : perLayer);
        _keys8 = Layered<sbyte>(config.Layers, quantized ? perLayer : 0);
        _values8 = Layered<sbyte>(config.Layers, quantized ? perLayer : 0);
        _keyScales = Layered<float>(config.Layers, quantized ? scales : 0);
        _valueScales = Layered<float>(config.Layers, quantized ? scales : 0);
        _lengths = new int[slots];
        // Each table has room for a full slot's blocks, so a step that starts a block never grows a list.
        int slotBlocks = (int)Math.Min(blocks, ((long)capacity + blockSize - 1) / blockSize);
        _tables = new List<int>[slots];
        _dropped = new int[slots];
        for (int slot = 0; slot < slots; slot++) _tables[slot] = new List<int>(slotBlocks);
        _references = new int[blocks];
        _free = new Stack<int>(Enumerable.Range(0, blocks).Reverse());
    }

    /// <summary>Where keys and values live when not in this cache's own arrays (an accelerator's memory); null when they do.</summary>
    public IKvBlockStorage? Storage { get; }
    /// <summary>Storage type of keys and values.</summary>
    public KvCacheType Type { get; }
    /// <summary>The sliding window whose passed blocks are returned to the pool; 0 = every position is kept.</summary>
    public int Window { get; }
    /// <summary>Number of independent sequences.</summary>
    public int Slots { get; }
    /// <summary>Most positions one slot may hold.</summary>
    public int Capacity { get; }
    /// <summary>Positions per block.</summary>
    public int BlockSize { get; }
    /// <summary>Blocks in the pool.</summary>
    public int BlockCount { get; }
    /// <summary>Blocks no slot holds.</summary>
    public int FreeBlocks => _free.Count;
    /// <summary>Blocks held by at least one slot.</summary>
    public int UsedBlocks => BlockCount - _free.Count;
    /// <summary>Width of one position's keys (or values).</summary>
    public int KeyValueDim { get; }
    /// <summary>Bytes held by keys and values.</summary>
    public long ByteSize => (long)BlockCount * BytesPerBlock(_keys.Length, KeyValueDim, _headDim, BlockSize, Type);

    /// <summary>Bytes one block of <paramref name="blockSize"/> positions takes, keys and values of every layer.</summary>
    public static long BytesPerBlock(ModelConfig config, int blockSize, KvCacheType type) =>
        BytesPerBlock(config.Layers, config.KeyValueDim, config.HeadDim, blockSize, type);

    private static long BytesPerBlock(int layers, int kvDim, int headDim, int blockSize, KvCacheType type)
    {
        long values = (long)blockSize * kvDim;
        long perLayer = type == KvCacheType.Int8 ? values + values / headDim * sizeof(float) : values * sizeof(float);
        return 2L * layers * perLayer;
    }

    /// <summary>
    /// Most blocks one sequence of up to <paramref name="capacity"/> positions holds when steps write up to
    /// <paramref name="stepTokens"/> of its positions: every block of its positions, or with a rolling window W the
    /// ⌊(W − 2)/B⌋ + 3 held between steps plus the blocks one step writes.
    /// </summary>
    public static int MostBlocksPerSequence(ModelConfig config, int capacity, int blockSize, int stepTokens)
    {
        int all = (capacity + blockSize - 1) / blockSize;
        if (config.SlidingWindow == 0) return all;
        long rolling = (config.SlidingWindow - 2L) / blockSize + 3 + (stepTokens + blockSize - 1L) / blockSize + 1;
        return (int)Math.Min(all, rolling);
    }

    /// <summary>How many leading positions of <paramref name="slot"/> hold valid keys and values.</summary>
    public int Length(int slot) => _lengths[slot];

    /// <summary>The first position <paramref name="slot"/> still holds; earlier ones went back to the pool with the window.</summary>
    public int HeldFrom(int slot) => _dropped[slot] * BlockSize;

    /// <summary>Blocks <paramref name="slot"/> holds (shared ones included).</summary>
    public int HeldBlocks(int slot) => _tables[slot].Count;

    /// <summary>
    /// Whether <paramref name="slot"/> holds every position a continuation from <paramref name="length"/> reads: with a
    /// window W the next query, at position length, reads positions ≥ length − W + 1.
    /// </summary>
    public bool CanResume(int slot, int length) =>
        (uint)length <= (uint)_lengths[slot] && (length == 0 || HeldFrom(slot) <= FirstRead(length));

    // The first position a query at `position` reads.
    private int FirstRead(int position) => Window > 0 ? Math.Max(0, position - Window + 1) : 0;

    /// <summary>
    /// Blocks that growing <paramref name="slot"/> to <paramref name="length"/> positions would take from
    /// the pool, counting the copy of a shared last block. Lets a scheduler admit work without touching tensors.
    /// </summary>
    public int BlocksNeeded(int slot, int length)
    {
        int have = _dropped[slot] + _tables[slot].Count;
        int need = Math.Max(0, (length + BlockSize - 1) / BlockSize - have);
        bool writesShared = length > _lengths[slot] && _lengths[slot] % BlockSize != 0 && _references[_tables[slot][^1]] > 1;
        return need + (writesShared ? 1 : 0);
    }

    /// <summary>Forgets positions [length, ...) of a slot and returns the blocks it no longer needs.</summary>
    public void Truncate(int slot, int length)
    {
        if ((uint)length > (uint)_lengths[slot]) throw new ArgumentOutOfRangeException(nameof(length), $"slot {slot} holds {_lengths[slot]} positions, cannot keep {length}");
        if (!CanResume(slot, length))
            throw new ArgumentOutOfRangeException(nameof(length), $"slot {slot} holds positions from {HeldFrom(slot)} only (sliding window {Window}); rewinding to {length} needs {FirstRead(length)}");
        var table = _tables[slot];
        int keep = length == 0 ? 0 : (length + BlockSize - 1) / BlockSize - _dropped[slot];
        for (int i = table.Count - 1; i >= keep; i--) Release(table[i]);
        table.RemoveRange(keep, table.Count - keep);
        _lengths[slot] = length;
        if (length == 0) _dropped[slot] = 0;
    }

    /// <summary>Empties a slot.</summary>
    public void Free(int slot) => Truncate(slot, 0);

    /// <summary>
    /// Makes slot <paramref name="target"/> hold the first <paramref name="length"/> positions of slot
    /// <paramref name="source"/> by sharing its blocks; nothing is copied until one of them writes.
    /// </summary>
    public void CopyPrefix(int source, int target, int length)
    {
        if ((uint)length > (uint)_lengths[source]) throw new ArgumentOutOfRangeException(nameof(length), $"slot {source} holds {_lengths[source]} positions, cannot copy {length}");
        if (!CanResume(source, length))
            throw new ArgumentOutOfRangeException(nameof(length), $"slot {source} holds positions from {HeldFrom(source)} only (sliding window {Window}); a copy of {length} needs {FirstRead(length)}");
        if (source == target) { Truncate(target, length); return; }
        Free(target);
        int dropped = _dropped[source], blocks = (length + BlockSize - 1) / BlockSize - dropped;
        for (int i = 0; i < blocks; i++)
        {
            int block = _tables[source][i];
            _references[block]++;
            _tables[target].Add(block);
        }
        (_dropped[target], _lengths[target]) = (length == 0 ? 0 : dropped, length);
        ReleasePassed(target);
    }

    /// <summary>
    /// Makes position <paramref name="position"/> of a slot writable: takes a new block when the position
    /// starts one, and copies a shared block before it is written. Throws when the pool is exhausted.
    /// </summary>
    public void PrepareWrite(int slot, int position)
    {
        var table = _tables[slot];
        int index = position / BlockSize - _dropped[slot];
        if (index == table.Count)
        {
            table.Add(Take(slot));
        }
        else if (_references[table[index]] > 1)
        {
            int shared = table[index], own = Take(slot);
            if (Storage is not null)
            {
                Storage.CopyBlock(shared, own);
                Release(shared);
                table[index] = own;
                return;
            }
            int scales = _blockFloats / _headDim;
            for (int l = 0; l < _keys.Length; l++)
            {
                if (Type == KvCacheType.Int8)
                {
                    Array.Copy(_keys8[l], shared * _blockFloats, _keys8[l], own * _blockFloats, _blockFloats);
                    Array.Copy(_values8[l], shared * _blockFloats, _values8[l], own * _blockFloats, _blockFloats);
                    Array.Copy(_keyScales[l], shared * scales, _keyScales[l], own * scales, scales);
                    Array.Copy(_valueScales[l], shared * scales, _valueScales[l], own * scales, scales);
                }
                else
                {
                    Array.Copy(_keys[l], shared * _blockFloats, _keys[l], own * _blockFloats, _blockFloats);
                    Array.Copy(_values[l], shared * _blockFloats, _values[l], own * _blockFloats, _blockFloats);
                }
            }
            Release(shared);
            table[index] = own;
        }
    }

    /// <summary>Stores the keys and values of one position (after <see cref="PrepareWrite"/>). (kvd) each</summary>
    internal void Store(int layer, int slot, int position, ReadOnlySpan<float> key, ReadOnlySpan<float> value)
    {
        int offset = Offset(slot, position);
        if (Type == KvCacheType.F32)
        {
            key.CopyTo(_keys[layer].AsSpan(offset, KeyValueDim));
            value.CopyTo(_values[layer].AsSpan(offset, KeyValueDim));
            return;
        }
        Quantize(key, _keys8[layer].AsSpan(offset, KeyValueDim), _keyScales[layer].AsSpan(offset / _headDim, KeyValueDim / _headDim));
        Quantize(value, _values8[layer].AsSpan(offset, KeyValueDim), _valueScales[layer].AsSpan(offset / _headDim, KeyValueDim / _headDim));
    }

    /// <summary>Int8 keys of positions [first, first + count) within one block. (count, kvd)</summary>
    internal ReadOnlySpan<sbyte> BlockKeys8(int layer, int slot, int first, int count) => _keys8[layer].AsSpan(Offset(slot, first), count * KeyValueDim);
    /// <summary>Int8 values of positions [first, first + count) within one block. (count, kvd)</summary>
    internal ReadOnlySpan<sbyte> BlockValues8(int layer, int slot, int first, int count) => _values8[layer].AsSpan(Offset(slot, first), count * KeyValueDim);
    /// <summary>Scales of the int8 keys. (count, kvHeads)</summary>
    internal ReadOnlySpan<float> BlockKeyScales(int layer, int slot, int first, int count) => _keyScales[layer].AsSpan(Offset(slot, first) / _headDim, count * KeyValueDim / _headDim);
    /// <summary>Scales of the int8 values. (count, kvHeads)</summary>
    internal ReadOnlySpan<float> BlockValueScales(int layer, int slot, int first, int count) => _valueScales[layer].AsSpan(Offset(slot, first) / _headDim, count * KeyValueDim / _headDim);

    /// <summary>Per head of <see cref="_headDim"/> values: scale = max|x|/127, q = round(x/scale).</summary>
    private void Quantize(ReadOnlySpan<float> x, Span<sbyte> q, Span<float> scales)
    {
        for (int h = 0; h < scales.Length; h++)
        {
            var head = x.Slice(h * _headDim, _headDim);
            float max = 0;
            foreach (float v in head) max = Math.Max(max, Math.Abs(v));
            float scale = max / 127f;
            scales[h] = scale;
            float inverse = scale > 0 ? 1f / scale : 0;
            for (int i = 0; i < _headDim; i++) q[h * _headDim + i] = (sbyte)Math.Round(head[i] * inverse, MidpointRounding.AwayFromZero);
        }
    }

    private static T[][] Layered<T>(int layers, long perLayer) => Enumerable.Range(0, layers).Select(_ => new T[perLayer]).ToArray();

    /// <summary>
    /// Keys of positions [first, first + count) that lie in one block, where count is at most what
    /// remains of that block. (count, kvd)
    /// </summary>
    public ReadOnlySpan<float> BlockKeys(int layer, int slot, int first, int count) => _keys[layer].AsSpan(Offset(slot, first), count * KeyValueDim);
    /// <summary>Values of positions [first, first + count) within one block. (count, kvd)</summary>
    public ReadOnlySpan<float> BlockValues(int layer, int slot, int first, int count) => _values[layer].AsSpan(Offset(slot, first), count * KeyValueDim);

    /// <summary>
    /// The blocks <paramref name="slot"/> holds, in order: entry i holds positions from <see cref="HeldFrom"/> + i·<see cref="BlockSize"/>.
    /// Valid until the slot changes.
    /// </summary>
    public ReadOnlySpan<int> BlockTable(int slot) => System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_tables[slot]);

    /// <summary>Records that positions up to <paramref name="position"/> of a slot are now valid.</summary>
    public void MarkWritten(int slot, int position)
    {
        if (position + 1 > _lengths[slot]) _lengths[slot] = position + 1;
        ReleasePassed(slot);
    }

    /// <summary>
    /// Undoes the <see cref="PrepareWrite"/> calls of a step that failed or was cancelled before it marked its positions
    /// written: each slot of <paramref name="batch"/> returns the blocks past its <see cref="Length"/>, so the cache holds
    /// what it held before the step and the pool's free count is what a scheduler expects. Keys and values the step left
    /// past a slot's length are never read: attention reads positions below the query's, and the next step rewrites them.
    /// </summary>
    public void ReleaseUnwritten(ForwardBatch batch)
    {
        for (int t = 0; t < batch.Count; t++)
        {
            int slot = batch.Slots[t];
            if ((uint)slot < (uint)Slots) Truncate(slot, _lengths[slot]);
        }
    }

    /// <summary>
    /// Returns the blocks of <paramref name="slot"/> that end before FirstRead(length) − BlockSize: the next query reads
    /// nothing before FirstRead(length), and the extra block keeps a rewind of up to BlockSize positions possible.
    /// </summary>
    private void ReleasePassed(int slot)
    {
        if (Window == 0) return;
        int passed = Math.Max(0, FirstRead(_lengths[slot]) - BlockSize) / BlockSize - _dropped[slot];
        if (passed <= 0) return;
        var table = _tables[slot];
        for (int i = 0; i < passed; i++) Release(table[i]);
        table.RemoveRange(0, passed);
        _dropped[slot] += passed;
    }

    private int Take(int slot)
    {
        if (_free.Count == 0) throw new InvalidOperationException($"the KV cache is full: all {BlockCount} blocks of {BlockSize} positions are in use (slot {slot} needs another)");
        int block = _free.Pop();
        _references[block] = 1;
        return block;
    }

    private void Release(int block)
    {
        if (--_references[block] == 0) _free.Push(block);
    }

    private int Offset(int slot, int position) => (_tables[slot][position / BlockSize - _dropped[slot]] * BlockSize + position % BlockSize) * KeyValueDim;
}
