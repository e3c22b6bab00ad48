using System.Runtime.Intrinsics;
using Dclm.Formats;
using Dclm.Formats.Gguf;

namespace Dclm.Tensors.Bench;

/// <summary>
/// One thread summing every tensor byte of a GGUF file, as a decoded token streams its weights: through
/// the file's mapping and through a copy in 2 MB pages (what the loader does by default), in thread CPU
/// time, with the smaps counters that say which page sizes backed each (FilePmdMapped, AnonHugePages).
/// Usage: sweep FILE.gguf
/// </summary>
internal static unsafe class SweepBench
{
    public static void Run(string path)
    {
        foreach (var residence in new[] { FileResidence.Mapped, FileResidence.Copied })
        {
            double open = ThreadClock.Milliseconds();
            var wall = System.Diagnostics.Stopwatch.StartNew();
            using var file = GgufFile.Open(path, residence);
            Console.WriteLine($"{residence}: opened in {wall.Elapsed.TotalSeconds:F2} s ({(ThreadClock.Milliseconds() - open) / 1000:F2} s of this thread's CPU)");
            long bytes = file.Tensors.Values.Sum(t => t.ByteLength);
            for (int pass = 0; pass < 4; pass++)
            {
                double start = ThreadClock.Milliseconds();
                Vector512<byte> sum = Vector512<byte>.Zero;
                foreach (var tensor in file.Tensors.Values)
                {
                    byte* p = tensor.Data;
                    for (long i = 0; i + 64 <= tensor.ByteLength; i += 64) sum += Vector512.Load(p + i);
                }
                double ms = ThreadClock.Milliseconds() - start;
                Console.WriteLine($"{residence}: pass {pass + 1}: {bytes / 1e9:F2} GB in {ms:F0} cpu-ms, {bytes / ms / 1e6:F1} GB/s (checksum {Vector512.Sum(sum.AsUInt32())})");
            }
            foreach (string line in File.ReadLines("/proc/self/smaps_rollup"))
                if (line.StartsWith("FilePmdMapped", StringComparison.Ordinal) || line.StartsWith("AnonHugePages", StringComparison.Ordinal) || line.StartsWith("Rss", StringComparison.Ordinal))
                    Console.WriteLine($"{residence}: {line}");
        }
    }
}
