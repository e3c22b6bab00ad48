using System.Diagnostics;
using System.Runtime.InteropServices;
using Dclm.Tensors;
using Dclm.Tensors.Compute;
using System.Runtime.Intrinsics;
using Dclm.Tensors.Numerics;

namespace Dclm.Tensors.Bench;

/// <summary>
/// The matrix products of one decoded TinyLlama-1.1B token (22 layers of Q, K, V, O, gate, up, down,
/// 2048 wide, 5632 hidden, 256-row K/V), about 540 MB of Q4_0 weights: far more than L3, so the weights
/// stream from memory as in real decode. Prints wall ms per token, weight GB/s and the process's CPU
/// time for 1 and 2 threads and each SIMD level; with "read", a loop that only reads the same bytes
/// (the machine's streaming bound); with "peer", llama.cpp's single-thread vec_dot over the same matrices.
/// Given a GGUF path, each variant also runs over that file's mapped pages ("file"; with "copy", over the
/// file read into huge-page memory instead, as <see cref="HugePageMemory"/> holds it). Usage: decode [q4_0|q8_0] [read] [peer] [file.gguf [copy]]
/// </summary>
internal static unsafe class DecodeBench
{
    private static readonly (int Rows, int Columns)[] LayerShapes =
        [(2048, 2048), (256, 2048), (256, 2048), (2048, 2048), (5632, 2048), (5632, 2048), (2048, 5632)];

    public static void Run(string[] args)
    {
        bool peer = args.Contains("peer") && LlamaCppPeer.TryLoad(out _);
        int layers = 22;
        List<WeightMatrix>? variantsFrom = null;
        foreach (var type in new[] { GgmlType.Q4_0, GgmlType.Q8_0 })
        {
            if (args.Contains("q4_0") && type != GgmlType.Q4_0 || args.Contains("q8_0") && type != GgmlType.Q8_0) continue;
            var matrices = new List<WeightMatrix>();
            long bytes = 0;
            var random = new Random(5);
            for (int layer = 0; layer < layers; layer++)
                foreach (var (rows, columns) in LayerShapes)
                {
                    var matrix = Allocate(type, rows, columns, random);
                    matrices.Add(matrix);
                    bytes += matrix.ByteLength;
                }
            string? file = args.FirstOrDefault(a => a.EndsWith(".gguf"));
            Dclm.Formats.Gguf.GgufFile? gguf = null;
            if (file != null)
            {
                // The model file's own tensors of the same shapes, used in place as a loaded model uses them,
                // or with "copy" read into huge-page memory as the loader does by default.
                gguf = Dclm.Formats.Gguf.GgufFile.Open(file, args.Contains("copy") ? Dclm.Formats.FileResidence.Copied : Dclm.Formats.FileResidence.Mapped);
                if (args.Contains("copy")) Console.WriteLine($"file read into memory, {gguf.HugePageBytes >> 20} MB in 2 MB pages");
                var mapped = new List<WeightMatrix>();
                string[] names = ["attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down"];
                for (int layer = 0; layer < layers; layer++)
                    foreach (string name in names)
                    {
                        var entry = gguf.Tensors[$"blk.{layer}.{name}.weight"];
                        mapped.Add(new WeightMatrix(entry.Data, entry.Type, (int)entry.Shape[1], (int)entry.Shape[0]));
                    }
                variantsFrom = mapped;
            }
            var input = new float[5632];
            var output = new float[5632];
            for (int i = 0; i < input.Length; i++) input[i] = random.NextSingle() - 0.5f;
            // Variants take turns round by round, so a slow spell of this shared machine hits them alike.
            var variants = new List<(string Name, Action Token)>();
            var pools = new[] { new ComputePool(1), new ComputePool(2) };
            foreach (var pool in pools)
                foreach (KernelIsa isa in new[] { KernelIsa.Avx2, KernelIsa.Avx512 })
                {
                    if (!KernelIsaInfo.IsSupported(isa)) continue;
                    var p = pool;
                    variants.Add(($"{isa,-6} {pool.Threads}t", () =>
                    {
                        foreach (var m in matrices) MatMul.Multiply(input.AsSpan(0, m.Columns), 1, m, output.AsSpan(0, m.Rows), p, isa);
                    }));
                    if (variantsFrom != null)
                    {
                        var fileMatrices = variantsFrom;
                        variants.Add(($"{isa,-6} {pool.Threads}t {(args.Contains("copy") ? "copy" : "file")}", () =>
                        {
                            foreach (var m in fileMatrices) MatMul.Multiply(input.AsSpan(0, m.Columns), 1, m, output.AsSpan(0, m.Rows), p, isa);
                        }));
                    }
                }
            if (args.Contains("read"))
                foreach (var pool in pools)
                {
                    var p = pool;
                    var job = new ReadJob();
                    variants.Add(($"read   {pool.Threads}t", () =>
                    {
                        foreach (var m in matrices) { job.Set(m.Data, m.ByteLength); p.Run(job); }
                    }));
                }
            var results = TimeAll(variants);
            for (int v = 0; v < variants.Count; v++)
                Console.WriteLine($"{GgmlTypeInfo.Name(type),-5} ours {variants[v].Name} {results[v].Wall,7:F2} ms/token {bytes / results[v].Wall / 1e6,6:F1} GB/s  cpu {results[v].Cpu,7:F2} ms/token");
            foreach (var pool in pools) pool.Dispose();
            if (peer)
            {
                byte* scratch = (byte*)NativeMemory.AlignedAlloc(5632 * 2 + 4096, 64);
                fixed (float* x = input)
                fixed (float* y = output)
                {
                    float* px = x, py = y;
                    var (wall, cpu) = Time(() =>
                    {
                        foreach (var m in matrices) LlamaCppPeer.MatVec((int)type, m.Data, m.RowBytes, m.Rows, m.Columns, px, py, scratch);
                    });
                    Console.WriteLine($"{GgmlTypeInfo.Name(type),-5} llama.cpp 1t {wall,7:F2} ms/token {bytes / wall / 1e6,6:F1} GB/s  cpu {cpu,7:F2} ms/token (vec_dot, not repacked)");
                }
                NativeMemory.AlignedFree(scratch);
            }
            foreach (var m in matrices) NativeMemory.AlignedFree(m.Data);
            gguf?.Dispose();
        }
    }

    /// <summary>Reads a matrix's bytes in chunks claimed like MatMul's, summing them: the streaming rate with no arithmetic.</summary>
    private sealed class ReadJob : ComputeJob
    {
        private byte* data;
        private long length;
        private long next;
        public long Sink;

        public void Set(byte* start, long bytes) { data = start; length = bytes; next = 0; }

        public override void Execute(int thread, int threads)
        {
            const long Chunk = 36 * 1024;
            var sum = System.Runtime.Intrinsics.Vector256<byte>.Zero;
            while (true)
            {
                long start = Interlocked.Add(ref next, Chunk) - Chunk;
                if (start >= length) break;
                long end = Math.Min(length, start + Chunk) - 32;
                for (long i = start; i <= end; i += 64)
                    sum += System.Runtime.Intrinsics.Vector256.Load(data + i) ^ System.Runtime.Intrinsics.Vector256.Load(data + i + 32);
            }
            Interlocked.Add(ref Sink, (long)Vector256.Sum(Vector256.AsUInt64(sum)));
        }
    }

    /// <summary>Random quants with small valid half scales: the speed does not depend on the values.</summary>
    private static WeightMatrix Allocate(GgmlType type, int rows, int columns, Random random)
    {
        long rowBytes = GgmlTypeInfo.ByteCount(type, columns);
        byte* data = (byte*)NativeMemory.AlignedAlloc((nuint)(rowBytes * rows), 64);
        var span = new Span<byte>(data, checked((int)(rowBytes * rows)));
        random.NextBytes(span);
        int blockBytes = GgmlTypeInfo.BlockBytes(type);
        for (long offset = 0; offset < span.Length; offset += blockBytes)
            *(ushort*)(data + offset) = HalfConversion.FromSingle(0.001f + random.NextSingle() * 0.01f);
        return new WeightMatrix(data, type, rows, columns);
    }

    private static (double Wall, double Cpu)[] TimeAll(List<(string Name, Action Token)> variants)
    {
        var best = new (double Wall, double Cpu)[variants.Count];
        Array.Fill(best, (double.MaxValue, double.MaxValue));
        foreach (var v in variants) for (int i = 0; i < 2; i++) v.Token();
        for (int round = 0; round < 4; round++)
            for (int v = 0; v < variants.Count; v++)
            {
                var process = Process.GetCurrentProcess();
                TimeSpan cpuStart = process.TotalProcessorTime;
                var watch = Stopwatch.StartNew();
                int count = 0;
                while (watch.ElapsedMilliseconds < 250) { variants[v].Token(); count++; }
                double wall = watch.Elapsed.TotalMilliseconds / count;
                process.Refresh();
                double cpu = (process.TotalProcessorTime - cpuStart).TotalMilliseconds / count;
                if (wall < best[v].Wall) best[v] = (wall, cpu);
            }
        return best;
    }

    private static (double Wall, double Cpu) Time(Action token)
    {
        for (int i = 0; i < 3; i++) token();
        double best = double.MaxValue, cpuBest = double.MaxValue;
        for (int round = 0; round < 5; round++)
        {
            var process = Process.GetCurrentProcess();
            TimeSpan cpuStart = process.TotalProcessorTime;
            var watch = Stopwatch.StartNew();
            int count = 0;
            while (watch.ElapsedMilliseconds < 400) { token(); count++; }
            double wall = watch.Elapsed.TotalMilliseconds / count;
            process.Refresh();
            double cpu = (process.TotalProcessorTime - cpuStart).TotalMilliseconds / count;
            if (wall < best) { best = wall; cpuBest = cpu; }
        }
        return (best, cpuBest);
    }
}
