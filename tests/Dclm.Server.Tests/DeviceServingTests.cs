using System.Text.Json;
using Dclm.Checkpoints;
using Dclm.Inference.Engine;
using Dclm.Models;
using Dclm.Server.Hosting;

namespace Dclm.Server.Tests;

/// <summary>
/// `dclm serve --device`: the server's engine over the GPU backend (on ILGPU's CPU accelerator). Concurrent completions
/// (one echoing its prompt's log-probabilities) and a second turn that reuses the first's keys and values on the device
/// give the tokens and log-probabilities of one plain forward pass of the CPU model over the whole sequence (dclm-tiny,
/// whose logits its own tests check against PyTorch's, with a byte-level tokenizer).
/// </summary>
public sealed class DeviceServingTests : IDisposable
{
    private readonly string _model = TinyByteModel.Write(Directory.CreateTempSubdirectory("dclm-device-serving-").FullName,
        Path.Combine(AppContext.BaseDirectory, "fixtures", "dclm-tiny"));

    public void Dispose() => Directory.Delete(_model, recursive: true);

    private ServerOptions Options => ServerFixture.Options() with
    {
        ModelPath = _model,
        Device = model => Gpu.DeviceModel.Open(model, "cpu-accel").Model,
        Engine = new EngineOptions { MaxRunningSequences = 3, StepTokenBudget = 16, ContextLength = 128 },
    };

    /// <summary>log softmax of the CPU model's logits at every position of <paramref name="sequence"/>, in double. (tokens, vocab)</summary>
    private static double[][] CpuLogprobs(DecoderModel model, int[] sequence)
    {
        int vocabulary = model.Config.VocabularySize;
        var logits = new float[sequence.Length * vocabulary];
        model.Forward(ForwardBatch.Sequence(sequence, 0, allLogits: true), model.CreateCache(), logits);
        return Enumerable.Range(0, sequence.Length).Select(t =>
        {
            var row = logits.AsSpan(t * vocabulary, vocabulary).ToArray();
            double max = row.Max(), log = max + Math.Log(row.Sum(l => Math.Exp(l - max)));
            return row.Select(l => l - log).ToArray();
        }).ToArray();
    }

    private static async Task<JsonElement> Complete(HttpClient client, string json)
    {
        using var response = await client.PostAsync("/v1/completions", ServerFixture.Json(json));
        string text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, text);
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>Checks a greedy completion's tokens and log-probabilities against the CPU model; returns the generated ids.</summary>
    private static int[] AssertMatchesCpu(DecoderModel model, int[] prompt, JsonElement body, bool echoed)
    {
        var choice = body.GetProperty("choices")[0];
        int generated = body.GetProperty("usage").GetProperty("completion_tokens").GetInt32();
        var logprobs = choice.GetProperty("logprobs").GetProperty("token_logprobs").EnumerateArray().Select(e => e.ValueKind == JsonValueKind.Null ? double.NaN : e.GetDouble()).ToArray();
        Assert.Equal((echoed ? prompt.Length : 0) + generated, logprobs.Length);
        var generatedLogprobs = logprobs[^generated..];
        // Greedy: each generated token's log-probability is the largest of the CPU model's row after the tokens before it
        // (and a different token would have changed the rows after it, and the second turn's reuse below).
        var ids = new List<int>(prompt);
        for (int i = 0; i < generated; i++)
        {
            var rows = CpuLogprobs(model, [.. ids]);
            int best = Array.IndexOf(rows[^1], rows[^1].Max());
            Assert.Equal(rows[^1][best], generatedLogprobs[i], 1e-4 * Math.Max(1, Math.Abs(rows[^1][best])));
            ids.Add(best);
        }
        if (echoed)
        {
            var rows = CpuLogprobs(model, prompt);
            Assert.True(double.IsNaN(logprobs[0]));
            for (int t = 1; t < prompt.Length; t++) Assert.Equal(rows[t - 1][prompt[t]], logprobs[t], 1e-4 * Math.Max(1, Math.Abs(rows[t - 1][prompt[t]])));
        }
        return [.. ids.Skip(prompt.Length)];
    }

    [Fact]
    public async Task CompletionsOnTheDeviceAreTheCpuModelsGreedyTokensAndLogprobs()
    {
        await using var server = await DclmServer.StartAsync(Options);
        await server.Host.Loading;
        using var client = new HttpClient { BaseAddress = server.Address, Timeout = TimeSpan.FromMinutes(5) };
        using var loaded = ModelLoader.Load(_model);
        int[][] prompts = [[5, 17, 99], [.. Enumerable.Range(200, 19)], [.. Enumerable.Range(300, 30).Select(i => i * 7 % 512)]];
        var bodies = await Task.WhenAll(prompts.Select((p, i) => Complete(client,
            $$"""{"prompt": {{JsonSerializer.Serialize(p)}}, "max_tokens": 4, "temperature": 0, "logprobs": 1, "echo": {{(i == 1 ? "true" : "false")}}}""")));
        var outputs = prompts.Select((p, i) => AssertMatchesCpu(loaded.Model, p, bodies[i], echoed: i == 1)).ToArray();

        // A second turn extends the first: the device's cached keys and values are reused (the half-full last block copied on write).
        int[] second = [.. prompts[2], .. outputs[2], 11, 12, 13];
        var turn2 = await Complete(client, $$"""{"prompt": {{JsonSerializer.Serialize(second)}}, "max_tokens": 4, "temperature": 0, "logprobs": 1}""");
        Assert.Equal(prompts[2].Length + outputs[2].Length - 1, turn2.GetProperty("usage").GetProperty("prompt_tokens_details").GetProperty("cached_tokens").GetInt32());
        AssertMatchesCpu(loaded.Model, second, turn2, echoed: false);
    }

    /// <summary>Adapters with a device are served there (DeviceAdapterServingTests checks what they give); the host no longer refuses them.</summary>
    [Fact]
    public async Task AdapterLoadingWithADeviceStartsTheEngineOnTheDevice()
    {
        using var host = new Dclm.Chat.ModelHost(Options with { AllowAdapterLoading = true });
        await host.Loading;
        Assert.NotNull(host.Engine);
        Assert.Single(host.Models);
    }
}
