using System.Runtime.InteropServices;

namespace Dclm.Tensors.Compute;

/// <summary>
/// A per-thread, 64-byte aligned native buffer that grows (rarely) and is never shrunk, so hot
/// paths can borrow scratch memory without allocating. Freed when its thread dies.
/// </summary>
internal sealed unsafe class ScratchBuffer
{
    [ThreadStatic] private static ScratchBuffer? activations;
    [ThreadStatic] private static ScratchBuffer? rows;
    [ThreadStatic] private static ScratchBuffer? tiles;
    [ThreadStatic] private static ScratchBuffer? panels;

    private byte* data;
    private nuint capacity;

    /// <summary>The calling thread's buffer for quantized activations.</summary>
    public static ScratchBuffer Activations => activations ??= new ScratchBuffer();

    /// <summary>The calling thread's buffer for a dequantized weight row or tile.</summary>
    public static ScratchBuffer Rows => rows ??= new ScratchBuffer();

    /// <summary>The calling thread's buffer for activations regrouped into token tiles (<see cref="Q8Tiles"/>).</summary>
    public static ScratchBuffer Tiles => tiles ??= new ScratchBuffer();

    /// <summary>The calling thread's buffer for dequantized weight panels (<see cref="WeightGemm"/>).</summary>
    public static ScratchBuffer Panels => panels ??= new ScratchBuffer();

    /// <summary>At least <paramref name="bytes"/> bytes; earlier contents are not kept when it grows.</summary>
    public byte* Get(nuint bytes)
    {
        if (bytes > capacity)
        {
            if (data != null) NativeMemory.AlignedFree(data);
            nuint size = Math.Max(bytes, capacity * 2);
            data = (byte*)NativeMemory.AlignedAlloc(size, 64);
            capacity = size;
        }
        return data;
    }

    ~ScratchBuffer()
    {
        if (data != null) NativeMemory.AlignedFree(data);
    }
}
