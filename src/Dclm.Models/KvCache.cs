namespace Dclm.Models;

/// <summary>
/// Keys and values of past positions, per layer and per sequence slot. Each slot holds one
/// sequence of up to <see cref="Capacity"/> positions; slots decode independently, each at its own position.
/// </summary>
public sealed class KvCache
{
    // Per layer: (slots, capacity, kvDim), keys and values apart.
    private readonly float[][] _keys;
    private readonly float[][] _values;
    private readonly int[] _lengths;

    public KvCache(ModelConfig config, int slots, int capacity)
    {
        if (slots <= 0) throw new ArgumentOutOfRangeException(nameof(slots), "a KV cache needs at least one slot");
        if (capacity <= 0) throw new ArgumentOutOfRangeException(nameof(capacity), "a KV cache needs a positive capacity");
        long perLayer = (long)slots * capacity * config.KeyValueDim;
        if (perLayer > Array.MaxLength)
            throw new ArgumentOutOfRangeException(nameof(capacity), $"{slots} slots × {capacity} positions × {config.KeyValueDim} values exceed one layer's limit of {Array.MaxLength}");
        Slots = slots;
        Capacity = capacity;
        KeyValueDim = config.KeyValueDim;
        _keys = new float[config.Layers][];
        _values = new float[config.Layers][];
        for (int l = 0; l < config.Layers; l++)
        {
            _keys[l] = new float[perLayer];
            _values[l] = new float[perLayer];
        }
        _lengths = new int[slots];
    }

    /// <summary>Number of independent sequences.</summary>
    public int Slots { get; }
    /// <summary>Positions per slot.</summary>
    public int Capacity { get; }
    /// <summary>Width of one position's keys (or values).</summary>
    public int KeyValueDim { get; }
    /// <summary>Bytes held by keys and values.</summary>
    public long ByteSize => 2L * _keys.Length * Slots * Capacity * KeyValueDim * sizeof(float);

    /// <summary>How many leading positions of <paramref name="slot"/> hold valid keys and values.</summary>
    public int Length(int slot) => _lengths[slot];

    /// <summary>Forgets positions [length, ...) of a slot, e.g. to reuse a shared prefix or free the slot.</summary>
    public void Truncate(int slot, int length)
    {
        if ((uint)length > (uint)_lengths[slot]) throw new ArgumentOutOfRangeException(nameof(length), $"slot {slot} holds {_lengths[slot]} positions, cannot keep {length}");
        _lengths[slot] = length;
    }

    /// <summary>
    /// Makes slot <paramref name="target"/> hold the first <paramref name="length"/> positions of slot
    /// <paramref name="source"/>, so several continuations can share one computed prefix.
    /// </summary>
    public void CopyPrefix(int source, int target, int length)
    {
        if ((uint)length > (uint)_lengths[source]) throw new ArgumentOutOfRangeException(nameof(length), $"slot {source} holds {_lengths[source]} positions, cannot copy {length}");
        if (source == target) { _lengths[target] = length; return; }
        int count = length * KeyValueDim;
        for (int layer = 0; layer < _keys.Length; layer++)
        {
            Array.Copy(_keys[layer], Offset(source, 0), _keys[layer], Offset(target, 0), count);
            Array.Copy(_values[layer], Offset(source, 0), _values[layer], Offset(target, 0), count);
        }
        _lengths[target] = length;
    }

    /// <summary>Keys of one position. (kvDim)</summary>
    public Span<float> Keys(int layer, int slot, int position) => _keys[layer].AsSpan(Offset(slot, position), KeyValueDim);
    /// <summary>Values of one position. (kvDim)</summary>
    public Span<float> Values(int layer, int slot, int position) => _values[layer].AsSpan(Offset(slot, position), KeyValueDim);

    /// <summary>All keys of a slot, positions [0, count). (count, kvDim)</summary>
    public ReadOnlySpan<float> SlotKeys(int layer, int slot, int count) => _keys[layer].AsSpan(Offset(slot, 0), count * KeyValueDim);
    /// <summary>All values of a slot, positions [0, count). (count, kvDim)</summary>
    public ReadOnlySpan<float> SlotValues(int layer, int slot, int count) => _values[layer].AsSpan(Offset(slot, 0), count * KeyValueDim);

    /// <summary>Records that positions up to <paramref name="position"/> of a slot are now valid.</summary>
    internal void MarkWritten(int slot, int position)
    {
        if (position + 1 > _lengths[slot]) _lengths[slot] = position + 1;
    }

    private int Offset(int slot, int position) => (slot * Capacity + position) * KeyValueDim;
}
