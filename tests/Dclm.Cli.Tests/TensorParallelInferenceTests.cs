using Dclm.Tensors;
using Dclm.TestSupport;

namespace Dclm.Cli.Tests;

/// <summary>
/// `mpirun -np 2 dclm logits|generate --tensor-parallel`: two processes, each holding half of the heads and feed-forward
/// units, give the one-process logits to 1e-5 of the largest (an open_lm checkpoint and a Llama GGUF with grouped-query
/// attention) and the independent open_lm implementation's greedy continuation, printed once.
/// </summary>
public sealed class TensorParallelInferenceTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "dclm-tpcli-" + Guid.NewGuid().ToString("N"));

    public TensorParallelInferenceTests() => Directory.CreateDirectory(_directory);
    public void Dispose() => Directory.Delete(_directory, true);

    [Fact]
    public void TwoRanksGiveTheOneProcessLogitsOfAnOpenLmAndAGroupedQueryLlamaModel()
    {
        var fixture = ReferenceFixture.Load("dclm-tiny");
        string prompt = string.Join(' ', fixture.Prompt);
        AssertSameLogits(fixture.Directory, prompt, "2 of 4 attention heads, 2 of 4 key/value heads and 128 of 256 feed-forward units per rank");
        Assert.True(fixture.RelativeError(Read(Path.Combine(_directory, "parallel.f32"))) <= 1e-4);

        string gguf = Path.Combine(_directory, "llama-gqa.gguf");
        var shape = new LlamaShape(Dim: 128, Layers: 2, Heads: 8, KeyValueHeads: 2, HiddenDim: 384, VocabularySize: 256);
        LlamaFiles.WriteGguf(RandomLlama.Create(shape, 5, outputShare: 1), gguf, GgmlType.F32, addTokenizer: _ => { });
        AssertSameLogits(gguf, "1 200 7 99 13 255 0 64", "4 of 8 attention heads, 1 of 2 key/value heads and 192 of 384 feed-forward units per rank");
    }

    [Fact]
    public void TwoRanksGenerateTheReferenceContinuationOnce()
    {
        var fixture = ReferenceFixture.Load("dclm-tiny");
        var result = DclmProcess.Mpirun(2, ["generate", "--model", fixture.Directory, "--prompt-tokens", string.Join(' ', fixture.Prompt),
            "--temperature", "0", "--max-tokens", fixture.GreedyContinuation.Length.ToString(), "--threads", "1", "--tensor-parallel"]);
        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Equal(string.Join(' ', fixture.GreedyContinuation), result.LastLine);
        Assert.Single(result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries)); // rank 0 alone prints
    }

    [Fact]
    public void ASplitTheHeadsDoNotAllowIsRefusedByName()
    {
        var fixture = ReferenceFixture.Load("dclm-tiny");
        var result = DclmProcess.Mpirun(3, ["logits", "--model", fixture.Directory, "--prompt-tokens", "1 2 3", "--output", Path.Combine(_directory, "x.f32"), "--tensor-parallel"]);
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("needs the attention heads (4) to divide by 3", result.Error);
        Assert.False(File.Exists(Path.Combine(_directory, "x.f32")));
    }

    private void AssertSameLogits(string model, string prompt, string split)
    {
        string single = Path.Combine(_directory, "single.f32"), parallel = Path.Combine(_directory, "parallel.f32");
        var one = DclmProcess.Run("logits", "--model", model, "--prompt-tokens", prompt, "--output", single);
        Assert.True(one.ExitCode == 0, one.Error);
        var two = DclmProcess.Mpirun(2, ["logits", "--model", model, "--prompt-tokens", prompt, "--output", parallel, "--tensor-parallel"]);
        Assert.True(two.ExitCode == 0, two.Error);
        Assert.Contains($"tensor parallel: 2 ranks, {split}", two.Error);
        Assert.Single(two.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        float[] expected = Read(single), actual = Read(parallel);
        Assert.Equal(expected.Length, actual.Length);
        double worst = 0, largest = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            worst = Math.Max(worst, Math.Abs(expected[i] - actual[i]));
            largest = Math.Max(largest, Math.Abs(expected[i]));
        }
        Assert.True(worst <= 1e-5 * largest, $"{model}: two ranks' logits differ from one process's by {worst / largest:E2} of the largest");
    }

    private static float[] Read(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var values = new float[bytes.Length / 4];
        Buffer.BlockCopy(bytes, 0, values, 0, bytes.Length);
        return values;
    }
}
