using Dclm.Benchmarks;
using LLama;
using LLama.Common;
using LLama.Native;

namespace Dclm.Bench.LlamaCpp;

/// <summary>llama.cpp through LLamaSharp's CPU build on the same file and threads, configured like llama-bench (f16 KV cache).</summary>
internal sealed class LlamaCppTarget : IBenchTarget
{
    // Before the first native call: errors only, and the native libraries from this plugin's folder, not the host program's.
    private static readonly Lazy<bool> Configured = new(() =>
    {
        NativeLibraryConfig.All
            .WithSearchDirectory(Path.GetDirectoryName(typeof(LlamaCppTarget).Assembly.Location)!)
            .WithLogCallback((level, message) => { if (level == LLamaLogLevel.Error) Console.Error.Write(message); });
        return true;
    });

    private readonly LLamaWeights _weights;
    private readonly LLamaContext _context;
    private readonly LLamaBatch _batch = new();

    public LlamaCppTarget(string path, int threads, int contextSize, bool useMemoryMap = true)
    {
        _ = Configured.Value;
        var parameters = new ModelParams(path)
        {
            ContextSize = (uint)contextSize,
            BatchSize = (uint)contextSize,
            UBatchSize = (uint)Math.Min(512, contextSize),
            Threads = threads,
            BatchThreads = threads,
            GpuLayerCount = 0,
        };
        // llama.cpp maps the file by default; --no-mmap reads it into its own buffers.
        if (!useMemoryMap) parameters.LoadMode = LLama.Native.LLamaLoadMode.None;
        _weights = LLamaWeights.LoadFromFile(parameters);
        _context = _weights.CreateContext(parameters);
    }

    public string Name => "llama.cpp";

    public void ProcessPrompt(int[] tokens)
    {
        Clear();
        _batch.Clear();
        for (int i = 0; i < tokens.Length; i++) _batch.Add(tokens[i], i, LLamaSeqId.Zero, i == tokens.Length - 1);
        Decode();
    }

    public void Generate(int first, int count)
    {
        Clear();
        int token = first;
        for (int i = 0; i < count; i++)
        {
            _batch.Clear();
            _batch.Add(token, i, LLamaSeqId.Zero, true);
            Decode();
            var logits = _context.NativeHandle.GetLogitsIth(0);
            int best = 0;
            for (int v = 1; v < logits.Length; v++) if (logits[v] > logits[best]) best = v;
            token = best;
        }
    }

    private void Clear() => _context.NativeHandle.MemoryClear(true);

    private void Decode()
    {
        var result = _context.Decode(_batch);
        if (result != DecodeResult.Ok) throw new InvalidOperationException($"llama_decode returned {result}");
    }

    public void Dispose()
    {
        _context.Dispose();
        _weights.Dispose();
    }
}
