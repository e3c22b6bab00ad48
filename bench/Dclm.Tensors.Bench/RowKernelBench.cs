using System.Diagnostics;
using System.Runtime.InteropServices;
using Dclm.Tensors.Compute;
using Dclm.Tensors.Numerics;

namespace Dclm.Tensors.Bench;

/// <summary>
/// The products of one decoded token (TinyLlama's 22 layers, or with "7b" Llama-7B's 32 layers of 4096 wide, 11008 hidden)
/// in Q4_0, from memory, with the one-row kernel called per row (as MatMul did before) against the many-row kernel
/// (the same kernel inlined into a loop over the rows, as MatMul runs it now), each thread streaming its own half of
/// every matrix. Variants take turns round by round; prints
/// wall ms per token, weight GB/s and process CPU ms per token; with "l2", the kernels alone from L2. Usage: rows [7b | l2]
/// </summary>
internal static unsafe class RowKernelBench
{
    private static readonly (int Rows, int Columns)[] TinyLlama =
        [(2048, 2048), (256, 2048), (256, 2048), (2048, 2048), (5632, 2048), (5632, 2048), (2048, 5632)];
    private static readonly (int Rows, int Columns)[] Llama7B =
        [(4096, 4096), (4096, 4096), (4096, 4096), (4096, 4096), (11008, 4096), (11008, 4096), (4096, 11008)];

    public static void Run(string[] args)
    {
        if (args.Contains("l2")) { RunFromCache(); return; }
        bool large = args.Contains("7b");
        var shapes = large ? Llama7B : TinyLlama;
        int layers = large ? 32 : 22;
        var random = new Random(5);
        var matrices = new List<WeightMatrix>();
        long bytes = 0;
        for (int layer = 0; layer < layers; layer++)
            foreach (var (rows, columns) in shapes)
            {
                matrices.Add(Allocate(rows, columns, random));
                bytes += matrices[^1].ByteLength;
            }
        int widest = shapes.Max(s => Math.Max(s.Rows, s.Columns));
        var input = new float[widest];
        for (int i = 0; i < input.Length; i++) input[i] = random.NextSingle() - 0.5f;
        var output = new float[widest];
        byte* activations = (byte*)NativeMemory.AlignedAlloc(Q8Activations.RowBytes(widest), 64);
        var job = new Job();
        var variants = new List<(string Name, Action Token)>();
        foreach (int threads in new[] { 1, 2 })
        {
            var pool = new ComputePool(threads);
            foreach (bool manyRows in new[] { false, true })
            {
                bool many = manyRows;
                variants.Add(($"{(many ? "many-row" : "one-row ")} {threads}t", () =>
                {
                    fixed (float* x = input)
                    fixed (float* y = output)
                        foreach (var m in matrices)
                        {
                            Q8Activations.Quantize(x, m.Columns, Q8Activations.Row(activations, m.Columns, 0));
                            job.Set(m, Q8Activations.Row(activations, m.Columns, 0), y, many);
                            pool.Run(job);
                        }
                }));
            }
        }
        Console.WriteLine($"q4_0, {(large ? "Llama-7B" : "TinyLlama")} decode products, {bytes / 1e6:F0} MB a token");
        var best = new (double Wall, double Cpu)[variants.Count];
        Array.Fill(best, (double.MaxValue, double.MaxValue));
        foreach (var v in variants) v.Token();
        for (int round = 0; round < (large ? 3 : 5); round++)
            for (int v = 0; v < variants.Count; v++)
            {
                var process = Process.GetCurrentProcess();
                TimeSpan cpuStart = process.TotalProcessorTime;
                var watch = Stopwatch.StartNew();
                int count = 0;
                while (watch.ElapsedMilliseconds < (large ? 1000 : 300)) { variants[v].Token(); count++; }
                double wall = watch.Elapsed.TotalMilliseconds / count;
                process.Refresh();
                double cpu = (process.TotalProcessorTime - cpuStart).TotalMilliseconds / count;
                Console.WriteLine($"  round {round} {variants[v].Name} {wall,8:F2} ms/token {bytes / wall / 1e6,6:F1} GB/s  cpu {cpu,8:F2} ms/token");
                if (wall < best[v].Wall) best[v] = (wall, cpu);
            }
        for (int v = 0; v < variants.Count; v++)
            Console.WriteLine($"best {variants[v].Name} {best[v].Wall,8:F2} ms/token {bytes / best[v].Wall / 1e6,6:F1} GB/s  cpu {best[v].Cpu,8:F2} ms/token");
        NativeMemory.AlignedFree(activations);
        foreach (var m in matrices) NativeMemory.AlignedFree(m.Data);
    }

    /// <summary>
    /// The kernels' own cost, with the memory out of the way: one thread over a 448 x 2048 and a 112 x 11008 matrix
    /// (about 0.5 MB each, so they stay in L2), thread CPU time per row, the two kernels taking turns.
    /// </summary>
    private static void RunFromCache()
    {
        var random = new Random(7);
        float* output = stackalloc float[448];
        foreach (var (rows, columns) in new[] { (448, 2048), (112, 11008) })
        {
            var m = Allocate(rows, columns, random);
            var input = new float[columns];
            for (int i = 0; i < columns; i++) input[i] = random.NextSingle() - 0.5f;
            byte* activations = (byte*)NativeMemory.AlignedAlloc(Q8Activations.RowBytes(columns), 64);
            fixed (float* x = input) Q8Activations.Quantize(x, columns, Q8Activations.Row(activations, columns, 0));
            var row = Q8Activations.Row(activations, columns, 0);
            double[] best = [double.MaxValue, double.MaxValue];
            for (int round = 0; round < 7; round++)
                for (int v = 0; v < 2; v++)
                {
                    double start = ThreadClock.Milliseconds();
                    for (int i = 0; i < 200; i++)
                    {
                        if (v == 1) DotQ4_0.RowsAvx512(m.Data, m.RowBytes, rows, row, columns / 32, output);
                        else for (int r = 0; r < rows; r++) output[r] = DotQ4_0.Avx512(m.Data + r * m.RowBytes, row, columns / 32);
                    }
                    best[v] = Math.Min(best[v], (ThreadClock.Milliseconds() - start) * 1e6 / 200 / rows);
                }
            Console.WriteLine($"{rows}x{columns} from L2, thread CPU ns per row: one-row {best[0]:F1}, many-row {best[1]:F1} ({m.RowBytes / best[0]:F1} against {m.RowBytes / best[1]:F1} GB/s)");
            NativeMemory.AlignedFree(activations);
            NativeMemory.AlignedFree(m.Data);
        }
    }

    /// <summary>Each part streams its contiguous share of the rows, with the chosen kernel.</summary>
    private sealed class Job : ComputeJob
    {
        private WeightMatrix weight;
        private Q8Row activation;
        private float* output;
        private bool manyRows;

        public void Set(WeightMatrix matrix, Q8Row row, float* destination, bool many)
        {
            weight = matrix;
            activation = row;
            output = destination;
            manyRows = many;
        }

        public override void Execute(int thread, int threads)
        {
            int span = (weight.Rows / threads + 3) / 4 * 4;
            int first = Math.Min(weight.Rows, thread * span), end = thread == threads - 1 ? weight.Rows : Math.Min(weight.Rows, first + span);
            int blocks = weight.Columns / 32;
            long rowBytes = weight.RowBytes;
            if (manyRows) DotQ4_0.RowsAvx512(weight.Data + first * rowBytes, rowBytes, end - first, activation, blocks, output + first);
            else for (int r = first; r < end; r++) output[r] = DotQ4_0.Avx512(weight.Data + r * rowBytes, activation, blocks);
        }
    }

    /// <summary>Random nibbles with small valid half scales: the speed does not depend on the values.</summary>
    private static WeightMatrix Allocate(int rows, int columns, Random random)
    {
        long rowBytes = GgmlTypeInfo.ByteCount(GgmlType.Q4_0, columns);
        byte* data = (byte*)NativeMemory.AlignedAlloc((nuint)(rowBytes * rows), 64);
        var span = new Span<byte>(data, checked((int)(rowBytes * rows)));
        random.NextBytes(span);
        for (long offset = 0; offset < span.Length; offset += 18)
            *(ushort*)(data + offset) = HalfConversion.FromSingle(0.001f + random.NextSingle() * 0.01f);
        return new WeightMatrix(data, GgmlType.Q4_0, rows, columns);
    }
}
