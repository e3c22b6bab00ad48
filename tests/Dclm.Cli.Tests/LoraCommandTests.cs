using Dclm.Checkpoints;
using Dclm.Checkpoints.Adapters;
using Dclm.Models.Adapters;

namespace Dclm.Cli.Tests;

/// <summary>
/// --lora end to end: dclm logits and generate with a PEFT adapter applied give what the model merged by dclm merge
/// gives (logits to 1e-5 relative, the same greedy ids), and the adapter moves the logits enough for that to mean
/// something; a missing adapter is an error naming it.
/// </summary>
public sealed class LoraCommandTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("dclm-cli-lora-").FullName;
    private static readonly string Tiny = DclmProcess.Fixture("dclm-tiny");
    private static readonly string Prompt = "3 141 59 26 35 89 79 323 84 262";

    public void Dispose()
    {
        try { Directory.Delete(_directory, recursive: true); } catch (IOException) { }
    }

    /// <summary>A rank-4 adapter on all seven projections of every block, written as a PEFT directory (for a model of <paramref name="change"/>d config).</summary>
    private string WriteAdapter(Func<Models.ModelConfig, Models.ModelConfig>? change = null)
    {
        using var loaded = ModelLoader.Load(Tiny);
        var config = change is null ? loaded.Config : change(loaded.Config);
        var random = new Random(11);
        float[] Values(int count) => Enumerable.Range(0, count).Select(_ => (random.NextSingle() - 0.5f) * 0.3f).ToArray();
        const int rank = 4;
        var updates = new List<LoraUpdate>();
        for (int layer = 0; layer < config.Layers; layer++)
            foreach (var target in LoraTargets.All)
            {
                var (rows, columns) = LoraTargets.Shape(target, config);
                updates.Add(new LoraUpdate(layer, target, Values(rank * columns), Values(rows * rank), rank, 2f));
            }
        string directory = Path.Combine(_directory, change is null ? "run" : "other-run", "adapter");
        PeftAdapter.Write(directory, new LoraWeights(config, updates), "dclm-tiny", 0);
        return directory;
    }

    private float[] Logits(string model, params string[] extra)
    {
        string output = Path.Combine(_directory, $"logits-{Guid.NewGuid():N}.f32");
        var result = DclmProcess.Run(["logits", "--model", model, "--prompt-tokens", Prompt, "--output", output, .. extra]);
        Assert.True(result.ExitCode == 0, result.Error);
        var bytes = File.ReadAllBytes(output);
        return System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(bytes).ToArray();
    }

    private static double RelativeError(float[] a, float[] b)
    {
        Assert.Equal(a.Length, b.Length);
        double difference = 0, norm = 0;
        for (int i = 0; i < a.Length; i++)
        {
            difference += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
            norm += (double)b[i] * b[i];
        }
        return Math.Sqrt(difference / norm);
    }

    [Fact]
    public void LogitsAndGenerateWithAnAdapterEqualTheMergedModel()
    {
        string adapter = WriteAdapter();
        string merged = Path.Combine(_directory, "merged.gguf");
        var merge = DclmProcess.Run("merge", "--model", Tiny, "--lora", adapter, "--output", merged, "--type", "f32");
        Assert.True(merge.ExitCode == 0, merge.Error);

        float[] applied = Logits(Tiny, "--lora", adapter), folded = Logits(merged), bare = Logits(Tiny);
        double error = RelativeError(applied, folded), effect = RelativeError(bare, folded);
        Assert.True(effect > 1e-2, $"the adapter moved the logits by only {effect:E2}: the comparison would prove nothing");
        Assert.True(error <= 1e-5, $"base --lora differs from the merged model by {error:E2}");

        string[] Generate(string model, params string[] extra) =>
            ["generate", "--model", model, "--prompt-tokens", Prompt, "--max-tokens", "16", "--temperature", "0", "--print-token-ids", .. extra];
        var withAdapter = DclmProcess.Run(Generate(Tiny, "--lora", adapter));
        var onMerged = DclmProcess.Run(Generate(merged));
        Assert.True(withAdapter.ExitCode == 0, withAdapter.Error);
        Assert.Equal(onMerged.LastLine, withAdapter.LastLine);
        Assert.NotEqual(DclmProcess.Run(Generate(Tiny)).LastLine, withAdapter.LastLine);
    }

    /// <summary>
    /// The same adapter on the GPU backend (ILGPU's CPU accelerator): logits within 1e-5 (relative, over all rows) of the
    /// merged model on the CPU, and the same greedy ids.
    /// </summary>
    [Fact]
    public void OnADeviceLogitsAndGenerateWithAnAdapterEqualTheMergedModel()
    {
        string adapter = WriteAdapter();
        string merged = Path.Combine(_directory, "merged.gguf");
        var merge = DclmProcess.Run("merge", "--model", Tiny, "--lora", adapter, "--output", merged, "--type", "f32");
        Assert.True(merge.ExitCode == 0, merge.Error);

        float[] applied = Logits(Tiny, "--lora", adapter, "--device", "cpu-accel"), folded = Logits(merged), bare = Logits(Tiny, "--device", "cpu-accel");
        double error = RelativeError(applied, folded), effect = RelativeError(bare, folded);
        Assert.True(effect > 1e-2, $"the adapter moved the logits by only {effect:E2}: the comparison would prove nothing");
        Assert.True(error <= 1e-5, $"--device cpu-accel --lora differs from the merged model by {error:E2}");

        string[] Generate(string model, params string[] extra) =>
            ["generate", "--model", model, "--prompt-tokens", Prompt, "--max-tokens", "8", "--temperature", "0", "--print-token-ids", .. extra];
        var onDevice = DclmProcess.Run(Generate(Tiny, "--lora", adapter, "--device", "cpu-accel"));
        Assert.True(onDevice.ExitCode == 0, onDevice.Error);
        Assert.Equal(DclmProcess.Run(Generate(merged)).LastLine, onDevice.LastLine);
    }

    [Fact]
    public void AnAdapterForAnotherModelIsAnErrorNamingItsTensorOnADeviceToo()
    {
        string adapter = WriteAdapter(c => c with { HiddenDim = c.HiddenDim + 32 });
        var result = DclmProcess.Run("logits", "--model", Tiny, "--prompt-tokens", Prompt, "--output", Path.Combine(_directory, "l.f32"), "--lora", adapter,
            "--device", "cpu-accel");
        Assert.NotEqual(0, result.ExitCode);
        Assert.Single(result.Error.Trim().Split('\n'));
        Assert.Contains("adapter_model.safetensors", result.Error);
    }

    [Fact]
    public void AMissingAdapterIsAnErrorNamingIt()
    {
        string missing = Path.Combine(_directory, "no-such-adapter");
        var result = DclmProcess.Run("generate", "--model", Tiny, "--prompt-tokens", Prompt, "--max-tokens", "2", "--lora", missing);
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("no-such-adapter", result.Error);
    }
}
