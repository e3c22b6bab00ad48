using Dclm.Benchmarks;
using Dclm.Tensors;

namespace Dclm.Cli.Tests;

/// <summary>
/// `dclm bench --compare llama.cpp` loads llama.cpp from its plugin (bench/Dclm.Bench.LlamaCpp), which the program
/// itself does not carry, and says in one line how to get the plugin when it is missing.
/// </summary>
public sealed class BenchCompareTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("dclm-cli-bench-").FullName;

    private string TinyLlama()
    {
        string path = Path.Combine(_directory, "tiny-llama.gguf");
        SyntheticGguf.Write(path, new BenchShape("tiny", OpenLm: false, Dim: 64, Layers: 2, Heads: 4, KeyValueHeads: 2, HiddenDim: 128, VocabularySize: 32000), GgmlType.Q8_0);
        return path;
    }

    private static readonly string[] Small = ["--prompt", "8", "--gen", "4", "--repetitions", "1", "--threads", "1"];

    [Fact]
    public void LlamaCppIsMeasuredThroughItsPlugin()
    {
        var result = DclmProcess.RunWith(new Dictionary<string, string?> { [BenchPeers.DirectoryVariable] = null },
            ["bench", "--model", TinyLlama(), .. Small, "--compare", "llama.cpp"]);
        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Contains("| dclmsharp |", result.Output);
        Assert.Contains("| llama.cpp |", result.Output);
        Assert.Contains("ratio ours/llama.cpp: pp", result.Output);
    }

    [Fact]
    public void TheProgramDoesNotCarryLlamaSharp()
    {
        Assert.False(File.Exists(Path.Combine(AppContext.BaseDirectory, "LLamaSharp.dll")));
        Assert.False(Directory.Exists(Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "avx2")));
        Assert.DoesNotContain("LLamaSharp", File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "dclm.deps.json")));
    }

    [Fact]
    public void AMissingPluginIsOneLineSayingHowToBuildIt()
    {
        var result = DclmProcess.RunWith(new Dictionary<string, string?> { [BenchPeers.DirectoryVariable] = _directory },
            ["bench", "--model", TinyLlama(), .. Small, "--compare", "llama.cpp"]);
        Assert.Equal(1, result.ExitCode);
        string error = Assert.Single(result.Error.Trim().Split('\n'));
        Assert.Contains("Dclm.Bench.LlamaCpp", error);
        Assert.Contains("dotnet build bench/Dclm.Bench.LlamaCpp", error);
        Assert.DoesNotContain("| dclmsharp |", result.Output);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
