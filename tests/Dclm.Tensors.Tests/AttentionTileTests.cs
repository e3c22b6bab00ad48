using Dclm.Tensors.Compute;

namespace Dclm.Tensors.Tests;

/// <summary>
/// The flash-attention tile at every instruction level against attention computed the plain way in double precision
/// (all scores, then a softmax, then the weighted sum), over awkward head widths, tile sizes, block sizes of a paged
/// cache (blocks scattered in memory), sliding windows, ALiBi and int8 keys and values; and a row's bits do not depend
/// on the rest of its tile.
/// </summary>
public class AttentionTileTests
{
    private static IEnumerable<KernelIsa> Levels() => Enum.GetValues<KernelIsa>().Where(KernelIsaInfo.IsSupported);

    /// <summary>(head width, rows, block size) cases: every SIMD tail of the width, tiles of one row to more than sixteen.</summary>
    public static TheoryData<int, int, int> Shapes()
    {
        var data = new TheoryData<int, int, int>();
        foreach (int width in new[] { 1, 3, 8, 15, 16, 17, 24, 32, 48, 63, 64, 80, 127, 128, 129, 192, 256, 257 })
            data.Add(width, width % 3 + 1, width % 2 == 0 ? 16 : 5);
        foreach (int rows in new[] { 4, 5, 16, 33 })
            foreach (int blockSize in new[] { 1, 7, 16, 32 })
                data.Add(64, rows, blockSize);
        return data;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void MatchesPlainAttentionAtEveryLevel(int headDim, int rows, int blockSize)
    {
        foreach (bool int8 in new[] { false, true })
            foreach (bool alibi in new[] { false, true })
                foreach (int window in new[] { 0, 9 })
                {
                    var cache = new PagedCache(headDim, positions: 70, blockSize, seed: headDim * 7919 + rows * 31 + blockSize);
                    var tileRows = TileRows(rows, lastPosition: 69, window, alibi, headDim, new Random(rows + headDim));
                    var expected = tileRows.Select(r => Plain(cache, r, int8)).ToArray();
                    foreach (var isa in Levels())
                    {
                        var actual = RunTile(cache, tileRows, int8, isa);
                        for (int r = 0; r < rows; r++)
                        {
                            // Values lie in [−1, 1]: float scores of up to 257 terms and float exponentials err by ~1e-6.
                            double error = 0;
                            for (int c = 0; c < headDim; c++) error = Math.Max(error, Math.Abs(actual[r][c] - expected[r][c]));
                            Assert.True(error <= 1e-5,
                                $"{isa} width {headDim}, {rows} rows, blocks of {blockSize}, int8 {int8}, ALiBi {alibi}, window {window}, row {r}: error {error:E2}");
                        }
                    }
                }
    }

    [Theory]
    [InlineData(2048, 16, 0)]
    [InlineData(4096, 32, 0)]
    [InlineData(3000, 16, 1000)]
    public void MatchesPlainAttentionOverLongContexts(int positions, int blockSize, int window)
    {
        // Contexts of DCLM-7B's 2048 and beyond: a hundred and more online rescalings per row, queries sharp enough that
        // the running max moves late in the sequence.
        const int headDim = 128;
        foreach (bool int8 in new[] { false, true })
            foreach (bool alibi in new[] { false, true })
            {
                var cache = new PagedCache(headDim, positions, blockSize, seed: positions + window);
                var tileRows = TileRows(6, lastPosition: positions - 1, window, alibi, headDim, new Random(positions));
                var expected = tileRows.Select(r => Plain(cache, r, int8)).ToArray();
                foreach (var isa in Levels())
                {
                    var actual = RunTile(cache, tileRows, int8, isa);
                    for (int r = 0; r < tileRows.Length; r++)
                    {
                        double error = 0;
                        for (int c = 0; c < headDim; c++) error = Math.Max(error, Math.Abs(actual[r][c] - expected[r][c]));
                        Assert.True(error <= 1e-5, $"{isa}, {positions} positions, int8 {int8}, ALiBi {alibi}, window {window}, row {r}: error {error:E2}");
                    }
                }
            }
    }

    [Theory]
    [InlineData(128)]
    [InlineData(64)]
    [InlineData(40)]
    public void ARowGivesTheSameBitsAloneAsInAnyTileWithAnyBlockSize(int headDim)
    {
        // The same row in a tile of 24 rows whose runs start at the tile's earliest visible position, alone with runs
        // from its own first position, and over caches of other block sizes: bit for bit, at every level, for f32 and
        // int8, with a window and ALiBi.
        foreach (bool int8 in new[] { false, true })
            foreach (var isa in Levels())
            {
                var cache = new PagedCache(headDim, positions: 90, blockSize: 16, seed: headDim);
                var tileRows = TileRows(24, lastPosition: 89, window: 21, alibi: true, headDim, new Random(3));
                var together = RunTile(cache, tileRows, int8, isa);
                for (int r = 0; r < tileRows.Length; r++)
                    Assert.Equal(together[r], RunTile(cache, [tileRows[r]], int8, isa)[0]);
                foreach (int blockSize in new[] { 1, 5, 32 })
                    Assert.Equal(together, RunTile(new PagedCache(headDim, positions: 90, blockSize, seed: headDim), tileRows, int8, isa));
            }
    }

    [Fact]
    public void ARowThatSeesNothingIsZeroAndBadRowsAreRefused()
    {
        var tile = new AttentionTile(2, 4);
        tile.Start(2, 0.5f);
        tile.SetRow(0, [1, 2, 3, 4], position: 3, first: 0);
        tile.SetRow(1, [1, 2, 3, 4], position: 40, first: 40);
        float[] keys = Enumerable.Range(0, 16).Select(i => (float)i).ToArray();
        tile.Attend(keys, keys, stride: 4, start: 0, count: 4);
        var output = new float[4];
        tile.Finish(1, output);
        Assert.Equal(new float[4], output);
        tile.Finish(0, output);
        Assert.True(output.All(v => v > 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => tile.Start(3, 1));
        Assert.Throws<ArgumentException>(() => tile.SetRow(0, [1, 2, 3], position: 3, first: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => tile.SetRow(0, [1, 2, 3, 4], position: 3, first: 4));
        Assert.Throws<ArgumentException>(() => tile.Attend(keys, keys, stride: 4, start: 0, count: 5));
        Assert.Throws<ArgumentOutOfRangeException>(() => tile.Attend(keys, keys, stride: 3, start: 0, count: 2));
    }

    /// <summary>Query rows of one tile: positions in the last stretch of the sequence, heads with their own slopes.</summary>
    private static Row[] TileRows(int rows, int lastPosition, int window, bool alibi, int headDim, Random random)
    {
        var result = new Row[rows];
        for (int r = 0; r < rows; r++)
        {
            int position = Math.Max(0, lastPosition - random.Next(0, 40));
            int first = window > 0 ? Math.Max(0, position - window + 1) : 0;
            // Large enough queries that the softmax is far from uniform.
            var query = Enumerable.Range(0, headDim).Select(_ => (random.NextSingle() * 2 - 1) * 6).ToArray();
            result[r] = new Row(query, position, first, alibi ? MathF.Pow(2, -(r % 8 + 1)) : 0);
        }
        return result;
    }

    private static float[][] RunTile(PagedCache cache, Row[] rows, bool int8, KernelIsa isa)
    {
        int headDim = cache.HeadDim;
        var tile = new AttentionTile(rows.Length, headDim, isa);
        tile.Start(rows.Length, 1f / MathF.Sqrt(headDim));
        for (int r = 0; r < rows.Length; r++) tile.SetRow(r, rows[r].Query, rows[r].Position, rows[r].First, rows[r].Slope);
        int first = rows.Min(r => r.First), last = rows.Max(r => r.Position);
        for (int p = first, run; p <= last; p += run)
        {
            run = Math.Min(cache.BlockSize - p % cache.BlockSize, last + 1 - p);
            int at = cache.Offset(p);
            if (int8)
                tile.Attend(cache.Keys8.AsSpan(at), cache.Values8.AsSpan(at), cache.KeyScales.AsSpan(at / cache.Stride), cache.ValueScales.AsSpan(at / cache.Stride),
                    cache.Stride, 1, p, run);
            else tile.Attend(cache.Keys.AsSpan(at), cache.Values.AsSpan(at), cache.Stride, p, run);
        }
        return rows.Select((_, r) => { var o = new float[headDim]; tile.Finish(r, o); return o; }).ToArray();
    }

    /// <summary>softmax(q·K/√d − ALiBi) · V over the row's visible positions, in double.</summary>
    private static double[] Plain(PagedCache cache, Row row, bool int8)
    {
        int headDim = cache.HeadDim, n = row.Position - row.First + 1;
        var scores = new double[n];
        for (int i = 0; i < n; i++)
        {
            int p = row.First + i, at = cache.Offset(p);
            double dot = 0;
            for (int c = 0; c < headDim; c++) dot += (double)row.Query[c] * (int8 ? cache.Keys8[at + c] * (double)cache.KeyScales[at / cache.Stride] : cache.Keys[at + c]);
            scores[i] = dot / Math.Sqrt(headDim) - row.Slope * (row.Position - p);
        }
        double max = scores.Max(), sum = scores.Sum(s => Math.Exp(s - max));
        var output = new double[headDim];
        for (int i = 0; i < n; i++)
        {
            int at = cache.Offset(row.First + i);
            double weight = Math.Exp(scores[i] - max) / sum;
            for (int c = 0; c < headDim; c++) output[c] += weight * (int8 ? cache.Values8[at + c] * (double)cache.ValueScales[at / cache.Stride] : cache.Values[at + c]);
        }
        return output;
    }

    private sealed record Row(float[] Query, int Position, int First, float Slope);

    /// <summary>
    /// A paged cache of one head: the keys and values of each position (f32, and int8 with scales) drawn from
    /// the seed alone, stored in blocks of the given size in a shuffled order.
    /// </summary>
    private sealed class PagedCache
    {
        private readonly int[] _blocks;

        public PagedCache(int headDim, int positions, int blockSize, int seed)
        {
            (HeadDim, BlockSize, Stride) = (headDim, blockSize, headDim + 3);
            int blocks = (positions + blockSize - 1) / blockSize, slots = blocks * blockSize;
            _blocks = Enumerable.Range(0, blocks).OrderBy(_ => new Random(seed + blockSize).Next()).ToArray();
            var random = new Random(seed);
            (Keys, Values, Keys8, Values8) = (new float[slots * Stride], new float[slots * Stride], new sbyte[slots * Stride], new sbyte[slots * Stride]);
            (KeyScales, ValueScales) = (new float[slots], new float[slots]);
            for (int p = 0; p < slots; p++)
            {
                int at = Offset(p);
                for (int c = 0; c < headDim; c++)
                {
                    Keys[at + c] = random.NextSingle() * 2 - 1;
                    Values[at + c] = random.NextSingle() * 2 - 1;
                    Keys8[at + c] = (sbyte)random.Next(-127, 128);
                    Values8[at + c] = (sbyte)random.Next(-127, 128);
                }
                KeyScales[at / Stride] = random.NextSingle() / 127;
                ValueScales[at / Stride] = random.NextSingle() / 127;
            }
        }

        public int HeadDim { get; }
        public int BlockSize { get; }
        public int Stride { get; }
        public float[] Keys { get; }
        public float[] Values { get; }
        public sbyte[] Keys8 { get; }
        public sbyte[] Values8 { get; }
        public float[] KeyScales { get; }
        public float[] ValueScales { get; }

        /// <summary>Where position p's key (and value) starts: its block's place, then its place in the block.</summary>
        public int Offset(int p) => (_blocks[p / BlockSize] * BlockSize + p % BlockSize) * Stride;
    }
}
