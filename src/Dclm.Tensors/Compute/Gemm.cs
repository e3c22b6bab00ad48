using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Dclm.Tensors.Compute;

/// <summary>
/// The fp32 matrix product training needs: C (m, n) = [C +] A (m, k) · B (k, n), with B and C
/// row-major and A read through strides, so that A may be a transposed view. All three products of a
/// linear layer y = x·Wᵀ reduce to it:
/// forward y = x · Wᵀ (B = a transposed copy of W), input gradient dx = dy · W (B = W), and weight
/// gradient dW += dyᵀ · x (A = dy read with swapped strides, B = x). <see cref="WeightGemm"/> runs the
/// same register tiles over panels of a stored (possibly quantized) weight.
/// </summary>
/// <remarks>
/// Each output element is owned by one thread and sums k in order with fused multiply-adds, at every
/// instruction-set level, so the result does not depend on the number of threads or on the level:
/// training is bit-for-bit reproducible.
/// </remarks>
public static unsafe class Gemm
{
    /// <summary>Rows of A (and C) one tile covers.</summary>
    internal const int TileRows = 4;
    /// <summary>Rows of B summed per pass over a tile, so a tile's strip of B stays in L2.</summary>
    internal const int DepthBlock = 256;
    /// <summary>
    /// Rows one tile covers when C is narrower than one wide tile (n &lt; <see cref="TileColumns"/>: a LoRA adapter's
    /// x·Aᵀ and dy·B, n = rank): eight rows of one vector each keep eight independent chains of fused multiply-adds
    /// in flight, where a 4 × 4-vector tile would fall back to one row at a time.
    /// </summary>
    internal const int NarrowTileRows = 8;

    /// <summary>Rows of A one tile covers for a product n columns wide.</summary>
    internal static int TileRowsFor(int n, KernelIsa isa) => n < TileColumns(isa) ? NarrowTileRows : TileRows;

    /// <summary>
    /// C[i, j] = (accumulate ? C[i, j] : 0) + Σ_p A[i, p] · B[p, j], where A[i, p] = a[i·aRowStride + p·aColumnStride],
    /// B[p, j] = b[p·n + j] and C[i, j] = c[i·n + j]. Work is split over <paramref name="pool"/>.
    /// </summary>
    public static void Multiply(ReadOnlySpan<float> a, int aRowStride, int aColumnStride, ReadOnlySpan<float> b, Span<float> c,
        int m, int k, int n, bool accumulate, ComputePool pool) =>
        Multiply(a, aRowStride, aColumnStride, b, n, c, n, m, k, n, accumulate, pool, KernelIsaInfo.Best);

    /// <summary>
    /// The same product with B and C read through row strides: B[p, j] = b[p·bRowStride + j] and
    /// C[i, j] = c[i·cRowStride + j], so either may be a band of columns of a wider matrix.
    /// </summary>
    public static void Multiply(ReadOnlySpan<float> a, int aRowStride, int aColumnStride, ReadOnlySpan<float> b, int bRowStride,
        Span<float> c, int cRowStride, int m, int k, int n, bool accumulate, ComputePool pool) =>
        Multiply(a, aRowStride, aColumnStride, b, bRowStride, c, cRowStride, m, k, n, accumulate, pool, KernelIsaInfo.Best);

    /// <summary>The same product with the tiles of one instruction-set level, for tests.</summary>
    internal static void Multiply(ReadOnlySpan<float> a, int aRowStride, int aColumnStride, ReadOnlySpan<float> b, Span<float> c,
        int m, int k, int n, bool accumulate, ComputePool pool, KernelIsa isa) =>
        Multiply(a, aRowStride, aColumnStride, b, n, c, n, m, k, n, accumulate, pool, isa);

    private static void Multiply(ReadOnlySpan<float> a, int aRowStride, int aColumnStride, ReadOnlySpan<float> b, int bRowStride,
        Span<float> c, int cRowStride, int m, int k, int n, bool accumulate, ComputePool pool, KernelIsa isa)
    {
        if (m < 0 || k < 0 || n < 0) throw new ArgumentOutOfRangeException(nameof(m), "matrix sizes must be non-negative");
        if (bRowStride < n || cRowStride < n) throw new ArgumentOutOfRangeException(nameof(bRowStride), "row strides must cover the n columns");
        if (!KernelIsaInfo.IsSupported(isa)) throw new PlatformNotSupportedException($"this processor does not run {isa} kernels");
        if (m == 0 || n == 0) return;
        long lastA = (long)(m - 1) * aRowStride + (long)Math.Max(k - 1, 0) * aColumnStride;
        if (k > 0 && a.Length <= lastA) throw new ArgumentException($"A holds {a.Length} values; the strides reach index {lastA}", nameof(a));
        if (k > 0 && b.Length < (long)(k - 1) * bRowStride + n) throw new ArgumentException($"B holds {b.Length} values, fewer than {k} rows of {n} at stride {bRowStride}", nameof(b));
        if (c.Length < (long)(m - 1) * cRowStride + n) throw new ArgumentException($"C holds {c.Length} values, fewer than {m} rows of {n} at stride {cRowStride}", nameof(c));
        if (k == 0)
        {
            if (!accumulate)
                for (int i = 0; i < m; i++) c.Slice(i * cRowStride, n).Clear();
            return;
        }
        fixed (float* pa = a)
        fixed (float* pb = b)
        fixed (float* pc = c)
        {
            var job = GemmJob.ForThisThread;
            job.Prepare(pa, aRowStride, aColumnStride, pb, bRowStride, pc, cRowStride, m, k, n, accumulate, isa);
            // A fork/join costs a few microseconds; tiny products run inline.
            if (pool.Threads > 1 && (long)m * n * k >= 1 << 15) pool.Run(job);
            else job.Execute(0, 1);
            job.Clear();
        }
    }

    /// <summary>Columns one tile covers at <paramref name="isa"/> (four vectors).</summary>
    internal static int TileColumns(KernelIsa isa) => isa switch
    {
        KernelIsa.Avx512 => 4 * Vector512<float>.Count,
        KernelIsa.Avx2 => 4 * Vector256<float>.Count,
        _ => 4 * Vector256<float>.Count,
    };

    /// <summary>
    /// C (rows, columns) [+]= A (rows, depth) · B (depth, columns), every operand at its origin:
    /// A[i, p] = a[i·aRow + p·aCol], B[p, j] = b[p·bStride + j], C[i, j] = c[i·cStride + j]. Column strips
    /// are the outer loop, so one strip of B stays in L1 while every row tile passes over it.
    /// </summary>
    internal static void Block(float* a, int aRow, int aCol, float* b, int bStride, float* c, int cStride,
        int rows, int columns, int depth, bool accumulate, KernelIsa isa)
    {
        int width = TileColumns(isa);
        for (int j0 = 0; j0 < columns; j0 += width)
        {
            int strip = Math.Min(width, columns - j0);
            for (int i0 = 0; i0 < rows; i0 += TileRows)
            {
                int tile = Math.Min(TileRows, rows - i0);
                Tile(a + (long)i0 * aRow, aRow, aCol, b + j0, bStride, c + (long)i0 * cStride + j0, cStride, tile, strip, depth, accumulate, isa);
            }
        }
    }

    /// <summary>One tile: rows × columns of C at its origin, depth terms.</summary>
    internal static void Tile(float* a, int aRow, int aCol, float* b, int bStride, float* c, int cStride,
        int rows, int columns, int depth, bool accumulate, KernelIsa isa)
    {
        if (rows == TileRows && columns == TileColumns(isa))
        {
            if (isa == KernelIsa.Avx512) { Tile4x4<Lanes512, Vector512<float>>(a, aRow, aCol, b, bStride, c, cStride, depth, accumulate); return; }
            if (isa == KernelIsa.Avx2) { Tile4x4<Lanes256, Vector256<float>>(a, aRow, aCol, b, bStride, c, cStride, depth, accumulate); return; }
        }
        if (rows == NarrowTileRows && isa != KernelIsa.Scalar)
        {
            NarrowTile(a, aRow, aCol, b, bStride, c, cStride, columns, depth, accumulate, isa);
            return;
        }
        if (isa == KernelIsa.Scalar) ScalarTile(a, aRow, aCol, b, bStride, c, cStride, rows, columns, depth, accumulate);
        else EdgeTile(a, aRow, aCol, b, bStride, c, cStride, rows, columns, depth, accumulate);
    }

    /// <summary>A whole tile: 4 rows × 4 registers of C held across the depth, each B load feeding four rows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile4x4<TLanes, TVector>(float* a, int aRow, int aCol, float* b, int bStride, float* c, int n, int depth, bool accumulate)
        where TLanes : struct, IFloatLanes<TVector> where TVector : struct
    {
        int w = TLanes.Count;
        TVector c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33;
        float* c0 = c, c1 = c + n, c2 = c + 2 * n, c3 = c + 3 * n;
        if (accumulate)
        {
            c00 = TLanes.Load(c0); c01 = TLanes.Load(c0 + w); c02 = TLanes.Load(c0 + 2 * w); c03 = TLanes.Load(c0 + 3 * w);
            c10 = TLanes.Load(c1); c11 = TLanes.Load(c1 + w); c12 = TLanes.Load(c1 + 2 * w); c13 = TLanes.Load(c1 + 3 * w);
            c20 = TLanes.Load(c2); c21 = TLanes.Load(c2 + w); c22 = TLanes.Load(c2 + 2 * w); c23 = TLanes.Load(c2 + 3 * w);
            c30 = TLanes.Load(c3); c31 = TLanes.Load(c3 + w); c32 = TLanes.Load(c3 + 2 * w); c33 = TLanes.Load(c3 + 3 * w);
        }
        else
        {
            c00 = c01 = c02 = c03 = c10 = c11 = c12 = c13 = c20 = c21 = c22 = c23 = c30 = c31 = c32 = c33 = TLanes.Zero;
        }
        for (int p = 0; p < depth; p++)
        {
            float* bp = b + (long)p * bStride;
            var b0 = TLanes.Load(bp); var b1 = TLanes.Load(bp + w); var b2 = TLanes.Load(bp + 2 * w); var b3 = TLanes.Load(bp + 3 * w);
            float* ap = a + (long)p * aCol;
            var a0 = TLanes.Broadcast(ap[0]);
            c00 = TLanes.FusedMultiplyAdd(a0, b0, c00); c01 = TLanes.FusedMultiplyAdd(a0, b1, c01);
            c02 = TLanes.FusedMultiplyAdd(a0, b2, c02); c03 = TLanes.FusedMultiplyAdd(a0, b3, c03);
            var a1 = TLanes.Broadcast(ap[aRow]);
            c10 = TLanes.FusedMultiplyAdd(a1, b0, c10); c11 = TLanes.FusedMultiplyAdd(a1, b1, c11);
            c12 = TLanes.FusedMultiplyAdd(a1, b2, c12); c13 = TLanes.FusedMultiplyAdd(a1, b3, c13);
            var a2 = TLanes.Broadcast(ap[2 * aRow]);
            c20 = TLanes.FusedMultiplyAdd(a2, b0, c20); c21 = TLanes.FusedMultiplyAdd(a2, b1, c21);
            c22 = TLanes.FusedMultiplyAdd(a2, b2, c22); c23 = TLanes.FusedMultiplyAdd(a2, b3, c23);
            var a3 = TLanes.Broadcast(ap[3 * aRow]);
            c30 = TLanes.FusedMultiplyAdd(a3, b0, c30); c31 = TLanes.FusedMultiplyAdd(a3, b1, c31);
            c32 = TLanes.FusedMultiplyAdd(a3, b2, c32); c33 = TLanes.FusedMultiplyAdd(a3, b3, c33);
        }
        TLanes.Store(c00, c0); TLanes.Store(c01, c0 + w); TLanes.Store(c02, c0 + 2 * w); TLanes.Store(c03, c0 + 3 * w);
        TLanes.Store(c10, c1); TLanes.Store(c11, c1 + w); TLanes.Store(c12, c1 + 2 * w); TLanes.Store(c13, c1 + 3 * w);
        TLanes.Store(c20, c2); TLanes.Store(c21, c2 + w); TLanes.Store(c22, c2 + 2 * w); TLanes.Store(c23, c2 + 3 * w);
        TLanes.Store(c30, c3); TLanes.Store(c31, c3 + w); TLanes.Store(c32, c3 + 2 * w); TLanes.Store(c33, c3 + 3 * w);
    }

    /// <summary>
    /// Eight rows of a narrow C: 16-wide vectors (AVX-512), then 8-wide ones, one column vector across all eight rows at
    /// a time, then single columns. Each element is still one chain of fused multiply-adds over p in order.
    /// </summary>
    private static void NarrowTile(float* a, int aRow, int aCol, float* b, int bStride, float* c, int cStride, int columns, int depth,
        bool accumulate, KernelIsa isa)
    {
        int j = 0;
        if (isa == KernelIsa.Avx512)
            for (; j + 16 <= columns; j += 16) Narrow8x1<Lanes512, Vector512<float>>(a, aRow, aCol, b + j, bStride, c + j, cStride, depth, accumulate);
        for (; j + 8 <= columns; j += 8) Narrow8x1<Lanes256, Vector256<float>>(a, aRow, aCol, b + j, bStride, c + j, cStride, depth, accumulate);
        if (j < columns) EdgeTile(a, aRow, aCol, b + j, bStride, c + j, cStride, NarrowTileRows, columns - j, depth, accumulate);
    }

    /// <summary>Eight rows × one register of C held across the depth, each B load feeding eight rows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Narrow8x1<TLanes, TVector>(float* a, int aRow, int aCol, float* b, int bStride, float* c, int n, int depth, bool accumulate)
        where TLanes : struct, IFloatLanes<TVector> where TVector : struct
    {
        TVector c0, c1, c2, c3, c4, c5, c6, c7;
        if (accumulate)
        {
            c0 = TLanes.Load(c); c1 = TLanes.Load(c + n); c2 = TLanes.Load(c + 2 * n); c3 = TLanes.Load(c + 3 * n);
            c4 = TLanes.Load(c + 4 * n); c5 = TLanes.Load(c + 5 * n); c6 = TLanes.Load(c + 6 * n); c7 = TLanes.Load(c + 7 * n);
        }
        else c0 = c1 = c2 = c3 = c4 = c5 = c6 = c7 = TLanes.Zero;
        for (int p = 0; p < depth; p++)
        {
            var bp = TLanes.Load(b + (long)p * bStride);
            float* ap = a + (long)p * aCol;
            c0 = TLanes.FusedMultiplyAdd(TLanes.Broadcast(ap[0]), bp, c0);
            c1 = TLanes.FusedMultiplyAdd(TLanes.Broadcast(ap[aRow]), bp, c1);
            c2 = TLanes.FusedMultiplyAdd(TLanes.Broadcast(ap[2 * aRow]), bp, c2);
            c3 = TLanes.FusedMultiplyAdd(TLanes.Broadcast(ap[3 * aRow]), bp, c3);
            c4 = TLanes.FusedMultiplyAdd(TLanes.Broadcast(ap[4 * aRow]), bp, c4);
            c5 = TLanes.FusedMultiplyAdd(TLanes.Broadcast(ap[5 * aRow]), bp, c5);
            c6 = TLanes.FusedMultiplyAdd(TLanes.Broadcast(ap[6 * aRow]), bp, c6);
            c7 = TLanes.FusedMultiplyAdd(TLanes.Broadcast(ap[7 * aRow]), bp, c7);
        }
        TLanes.Store(c0, c); TLanes.Store(c1, c + n); TLanes.Store(c2, c + 2 * n); TLanes.Store(c3, c + 3 * n);
        TLanes.Store(c4, c + 4 * n); TLanes.Store(c5, c + 5 * n); TLanes.Store(c6, c + 6 * n); TLanes.Store(c7, c + 7 * n);
    }

    /// <summary>Partial tiles at the right and bottom edges: one row at a time, 8-wide vectors, then scalars.</summary>
    private static void EdgeTile(float* a, int aRow, int aCol, float* b, int bStride, float* c, int cStride, int rows, int columns,
        int depth, bool accumulate)
    {
        for (int i = 0; i < rows; i++)
        {
            float* ci = c + (long)i * cStride;
            float* ai = a + (long)i * aRow;
            int j = 0;
            for (; j + 8 <= columns; j += 8)
            {
                var sum = accumulate ? Vector256.Load(ci + j) : Vector256<float>.Zero;
                for (int p = 0; p < depth; p++)
                    sum = Vector256.FusedMultiplyAdd(Vector256.Create(ai[(long)p * aCol]), Vector256.Load(b + (long)p * bStride + j), sum);
                sum.Store(ci + j);
            }
            for (; j < columns; j++)
            {
                float sum = accumulate ? ci[j] : 0f;
                for (int p = 0; p < depth; p++) sum = MathF.FusedMultiplyAdd(ai[(long)p * aCol], b[(long)p * bStride + j], sum);
                ci[j] = sum;
            }
        }
    }

    /// <summary>The reference: every element a scalar chain of fused multiply-adds over p in order.</summary>
    private static void ScalarTile(float* a, int aRow, int aCol, float* b, int bStride, float* c, int cStride, int rows, int columns,
        int depth, bool accumulate)
    {
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < columns; j++)
            {
                float sum = accumulate ? c[(long)i * cStride + j] : 0f;
                for (int p = 0; p < depth; p++) sum = MathF.FusedMultiplyAdd(a[(long)i * aRow + (long)p * aCol], b[(long)p * bStride + j], sum);
                c[(long)i * cStride + j] = sum;
            }
    }
}

/// <summary>Shares the tiles of one product between the pool's threads through an atomic counter.</summary>
internal sealed unsafe class GemmJob : ComputeJob
{
    [ThreadStatic] private static GemmJob? current;
    public static GemmJob ForThisThread => current ??= new GemmJob();

    private float* a, b, c;
    private int aRow, aCol, bStride, cStride, m, k, n, tileRows, tileColumns, columnTiles, tiles;
    private bool accumulate;
    private KernelIsa isa;
    private int next;

    public void Prepare(float* a, int aRow, int aCol, float* b, int bStride, float* c, int cStride, int m, int k, int n, bool accumulate, KernelIsa isa)
    {
        this.a = a; this.b = b; this.c = c; this.bStride = bStride; this.cStride = cStride;
        this.aRow = aRow; this.aCol = aCol; this.m = m; this.k = k; this.n = n; this.accumulate = accumulate; this.isa = isa;
        tileColumns = Gemm.TileColumns(isa);
        tileRows = Gemm.TileRowsFor(n, isa);
        columnTiles = (n + tileColumns - 1) / tileColumns;
        tiles = (m + tileRows - 1) / tileRows * columnTiles;
        next = 0;
    }

    public void Clear() { a = b = c = null; }

    public override void Execute(int thread, int threads)
    {
        // Consecutive tiles share a row band of A; claim a few at a time to keep the counter cold.
        const int Chunk = 4;
        while (true)
        {
            int first = Interlocked.Add(ref next, Chunk) - Chunk;
            if (first >= tiles) return;
            int last = Math.Min(first + Chunk, tiles);
            for (int t = first; t < last; t++)
            {
                int i0 = t / columnTiles * tileRows, j0 = t % columnTiles * tileColumns;
                int rows = Math.Min(tileRows, m - i0), columns = Math.Min(tileColumns, n - j0);
                for (int p0 = 0; p0 < k; p0 += Gemm.DepthBlock)
                {
                    int depth = Math.Min(Gemm.DepthBlock, k - p0);
                    Gemm.Tile(a + (long)i0 * aRow + (long)p0 * aCol, aRow, aCol, b + (long)p0 * bStride + j0, bStride, c + (long)i0 * cStride + j0, cStride,
                        rows, columns, depth, accumulate || p0 > 0, isa);
                }
            }
        }
    }
}
