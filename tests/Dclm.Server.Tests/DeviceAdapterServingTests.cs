using System.Text.Json;
using Dclm.Chat;
using Dclm.Checkpoints;
using Dclm.Inference.Engine;
using Dclm.Models.Adapters;
using Dclm.Server.Hosting;

namespace Dclm.Server.Tests;

/// <summary>
/// `dclm serve --device --lora NAME=PATH --allow-lora-loading`: adapters served by the GPU backend (on ILGPU's CPU
/// accelerator), one given at start and one loaded over HTTP while the server runs. The base and both adapters requested
/// at once give the greedy text of the same server on the CPU engine (whose adapters <see cref="AdapterServingTests"/>
/// checks against merged models), and an adapter of the wrong shape is the same 400 (dclm-tiny with a byte-level
/// tokenizer, so the 256-wide head keeps the CPU accelerator quick).
/// </summary>
public sealed class DeviceAdapterServingTests : IAsyncLifetime
{
    private static readonly string[] Prompts = ["The quick brown fox", "Once upon a time,", "def fibonacci(n):"];
    private readonly string _model = TinyByteModel.Write(Directory.CreateTempSubdirectory("dclm-device-adapters-").FullName,
        Path.Combine(AppContext.BaseDirectory, "fixtures", "dclm-tiny"));
    private LoraWeights[] _adapters = [];
    private Models.ModelConfig _config = null!;
    private DclmServer _onDevice = null!, _onCpu = null!;

    private ServerOptions Options(bool device) => ServerFixture.Options() with
    {
        ModelPath = _model,
        Adapters = [new AdapterSource("support", TinyAdapters.Write(_adapters[0], device ? "device-support" : "cpu-support"))],
        AllowAdapterLoading = true,
        Device = device ? model => Gpu.DeviceModel.Open(model, "cpu-accel").Model : null,
        Engine = new EngineOptions { MaxRunningSequences = 3, StepTokenBudget = 32, ContextLength = 128 },
    };

    public async Task InitializeAsync()
    {
        using (var loaded = ModelLoader.Load(_model)) _config = loaded.Config;
        _adapters = TinyAdapters.Pair(_config);
        _onDevice = await DclmServer.StartAsync(Options(device: true));
        _onCpu = await DclmServer.StartAsync(Options(device: false));
        await Task.WhenAll(_onDevice.Host.Loading, _onCpu.Host.Loading);
    }

    public async Task DisposeAsync()
    {
        await _onDevice.DisposeAsync();
        await _onCpu.DisposeAsync();
        Directory.Delete(_model, recursive: true);
    }

    private static async Task<(int Status, JsonElement Body)> Post(DclmServer server, string path, string json)
    {
        using var client = new HttpClient { BaseAddress = server.Address, Timeout = TimeSpan.FromMinutes(5) };
        using var response = await client.PostAsync(path, ServerFixture.Json(json));
        return ((int)response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone());
    }

    [Fact]
    public async Task TheBaseAnAdapterAndOneLoadedAtRunTimeGiveTheCpuServersText()
    {
        string?[] models = [null, "support", "runtime"];
        var texts = new List<string[]>();
        foreach (var server in new[] { _onDevice, _onCpu })
        {
            string path = TinyAdapters.Write(_adapters[1], server == _onDevice ? "device-runtime" : "cpu-runtime");
            var (status, added) = await Post(server, "/v1/lora-adapters", $$"""{"lora_name": "runtime", "lora_path": {{JsonSerializer.Serialize(path)}}}""");
            Assert.Equal(200, status);
            Assert.Equal("runtime", added.GetProperty("id").GetString());
            var replies = await Task.WhenAll(models.Select((model, i) => Post(server, "/v1/completions",
                $$"""{{{(model is null ? "" : $"\"model\": \"{model}\", ")}}"prompt": "{{Prompts[i]}}", "max_tokens": 8, "temperature": 0}""")));
            Assert.All(replies, r => Assert.Equal(200, r.Status));
            texts.Add(replies.Select(r => r.Body.GetProperty("choices")[0].GetProperty("text").GetString()!).ToArray());
        }
        Assert.Equal(texts[1], texts[0]);
        // The adapters change what the model says, or the comparison proves nothing.
        var (_, bare) = await Post(_onCpu, "/v1/completions", $$"""{"prompt": "{{Prompts[1]}}", "max_tokens": 8, "temperature": 0}""");
        Assert.NotEqual(bare.GetProperty("choices")[0].GetProperty("text").GetString(), texts[0][1]);

        var narrow = _config with { Dim = 32, HiddenDim = 64 };
        string wrongShape = TinyAdapters.Write(TinyAdapters.Random(narrow, [LoraTarget.Query], 4), "device-narrow");
        var (code, error) = await Post(_onDevice, "/v1/lora-adapters", $$"""{"lora_name": "x", "lora_path": {{JsonSerializer.Serialize(wrongShape)}}}""");
        Assert.Equal(400, code);
        Assert.Equal("lora_path", error.GetProperty("error").GetProperty("param").GetString());
        Assert.Equal(3, _onDevice.Host.Models.Count);
    }
}
