using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text.Json;
using Dclm.Data.Documents;
using Dclm.Data.IO;
using Dclm.Formats;
using Dclm.Tokenizers;

namespace Dclm.Data.Tokenize;

/// <summary>Settings of <see cref="TokenizeRunner.Run"/>.</summary>
public sealed record TokenizeOptions(string InputPath, string TokenizerPath, string OutputPath)
{
    /// <summary>Tokens per window.</summary>
    public int WindowLength { get; init; } = 2049;
    /// <summary>Windows per shard file.</summary>
    public int WindowsPerShard { get; init; } = 8192;
    /// <summary>Shuffle seed.</summary>
    public int Seed { get; init; } = 1234;
    /// <summary>Tokenizer threads.</summary>
    public int Threads { get; init; } = 1;
}

/// <summary>
/// <c>dclm data tokenize</c>: tokenizes curated documents in input order with the model's tokenizer, appends the
/// end-of-text id after each document, cuts the concatenated stream into fixed windows (the final partial window
/// is dropped), shuffles the windows globally with a seeded Fisher–Yates permutation and writes them as uint32
/// shards plus <c>manifest.json</c>. Windows first go to an unshuffled scratch file, so memory stays bounded by
/// one batch of documents; shards and manifest are written atomically, the manifest last.
/// </summary>
public static class TokenizeRunner
{
    private const int BatchSize = 256;

    /// <summary>Runs the tokenization and returns the manifest.</summary>
    public static TokenShardManifest Run(TokenizeOptions options, CancellationToken cancellation = default)
    {
        if (options.WindowLength < 2) throw new ArgumentException("--window must be at least 2");
        if (options.WindowsPerShard < 1) throw new ArgumentException("--windows-per-shard must be at least 1");
        var tokenizer = Tokenizer.Load(options.TokenizerPath);
        int eot = EndOfTextId(tokenizer, options.TokenizerPath);
        var inputs = InputFiles(options.InputPath);
        Directory.CreateDirectory(options.OutputPath);
        AtomicFile.RemoveLeftovers(options.OutputPath);

        var manifest = new TokenShardManifest
        {
            Tokenizer = Path.GetFullPath(options.TokenizerPath),
            TokenizerSha256 = Sha256(options.TokenizerPath),
            VocabularySize = tokenizer.VocabularySize,
            WindowLength = options.WindowLength,
            EotId = eot,
            Seed = options.Seed,
            Inputs = inputs.Select(f => Path.GetRelativePath(options.InputPath, f).Replace('\\', '/')).ToList(),
        };
        var scratch = Path.Combine(options.OutputPath, $".windows.{Environment.ProcessId}.scratch");
        try
        {
            long windows;
            using (var scratchStream = new FileStream(scratch, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
                windows = WriteWindows(tokenizer, eot, inputs, options, manifest, scratchStream, cancellation);
            manifest.Windows = windows;
            WriteShuffledShards(scratch, windows, options, manifest, cancellation);
        }
        finally
        {
            if (File.Exists(scratch)) File.Delete(scratch);
        }
        AtomicFile.WriteText(Path.Combine(options.OutputPath, "manifest.json"), JsonSerializer.Serialize(manifest, new JsonSerializerOptions { WriteIndented = true }));
        return manifest;
    }

    /// <summary>The end-of-text id: the vocabulary's EOS, else the "&lt;|endoftext|&gt;" token.</summary>
    public static int EndOfTextId(Tokenizer tokenizer, string path)
    {
        if (tokenizer.EndOfSequenceId is { } eos) return eos;
        if (tokenizer.TryGetId("<|endoftext|>", out int id)) return id;
        throw new InvalidDataException($"{path}: the tokenizer defines no end-of-sequence token to separate documents");
    }

    private static List<string> InputFiles(string input)
    {
        if (File.Exists(input)) return [Path.GetFullPath(input)];
        var documents = Path.Combine(input, "documents");
        var root = Directory.Exists(documents) ? documents : input;
        if (!Directory.Exists(root)) throw new DirectoryNotFoundException($"{input}: input folder does not exist");
        var files = Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
            .Where(f => Inputs.InputPlanner.KindOf(f) == Inputs.InputKind.Jsonl && !Path.GetFileName(f).StartsWith('.'))
            .Order(StringComparer.Ordinal).ToList();
        if (files.Count == 0) throw new InvalidOperationException($"{input}: no .jsonl(.gz|.zst) documents to tokenize");
        return files;
    }

    private static long WriteWindows(Tokenizer tokenizer, int eot, List<string> inputs, TokenizeOptions options, TokenShardManifest manifest, Stream scratch, CancellationToken cancellation)
    {
        var window = new uint[options.WindowLength];
        var bytes = new byte[options.WindowLength * 4];
        int filled = 0;
        long windows = 0;
        var batch = new List<Document>(BatchSize);
        void Flush()
        {
            var encoded = new int[batch.Count][];
            Parallel.For(0, batch.Count, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, options.Threads), CancellationToken = cancellation },
                i => encoded[i] = tokenizer.Encode(batch[i].Text));
            foreach (var ids in encoded)
            {
                foreach (var id in ids.Append(eot))
                {
                    window[filled++] = (uint)id;
                    if (filled < window.Length) continue;
                    for (int t = 0; t < window.Length; t++) BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(t * 4), window[t]);
                    scratch.Write(bytes);
                    windows++;
                    filled = 0;
                }
            }
            batch.Clear();
        }
        foreach (var file in inputs)
        {
            foreach (var document in DocumentJsonl.ReadFile(file, "unknown"))
            {
                cancellation.ThrowIfCancellationRequested();
                manifest.Documents++;
                manifest.Sources[document.Source] = manifest.Sources.GetValueOrDefault(document.Source) + 1;
                batch.Add(document);
                if (batch.Count == BatchSize) Flush();
            }
        }
        Flush();
        manifest.DroppedTailTokens = filled;
        return windows;
    }

    /// <summary>Seeded Fisher–Yates permutation of 0..count-1.</summary>
    public static long[] Permutation(long count, int seed)
    {
        var order = new long[count];
        for (long i = 0; i < count; i++) order[i] = i;
        var random = new Random(seed);
        for (long i = count - 1; i > 0; i--)
        {
            long j = random.NextInt64(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
        return order;
    }

    private static void WriteShuffledShards(string scratch, long windows, TokenizeOptions options, TokenShardManifest manifest, CancellationToken cancellation)
    {
        var order = Permutation(windows, options.Seed);
        int windowBytes = options.WindowLength * 4;
        var buffer = new byte[windowBytes];
        using var source = new FileStream(scratch, FileMode.Open, FileAccess.Read, FileShare.Read, windowBytes);
        int shard = 0;
        for (long start = 0; start < windows; start += options.WindowsPerShard, shard++)
        {
            long count = Math.Min(options.WindowsPerShard, windows - start);
            var name = $"shard-{shard:D5}.bin";
            var path = Path.Combine(options.OutputPath, name);
            AtomicFile.Write(path, stream =>
            {
                for (long k = start; k < start + count; k++)
                {
                    cancellation.ThrowIfCancellationRequested();
                    source.Position = order[k] * windowBytes;
                    source.ReadExactly(buffer);
                    stream.Write(buffer);
                }
            });
            manifest.Shards.Add(new TokenShardEntry { File = name, Windows = count, Sha256 = Sha256(path) });
        }
        foreach (var stale in Directory.EnumerateFiles(options.OutputPath, "shard-*.bin"))
            if (!manifest.Shards.Any(s => s.File == Path.GetFileName(stale))) File.Delete(stale);
    }

    private static string Sha256(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}
