using System.Net;
using System.Runtime.InteropServices;
using System.Text.Json;
using Dclm.Server.Hosting;

namespace Dclm.Server.Tests;

public partial class LoadingTests
{
    [LibraryImport("libc", EntryPoint = "mkfifo", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int MakeFifo(string path, uint mode);

    [Fact]
    public async Task HealthAndGenerationAnswer503WhileTheModelIsStillLoading()
    {
        if (!OperatingSystem.IsLinux()) return;
        // A named pipe as the model file: opening it blocks until a writer comes, so the load is
        // genuinely in progress for as long as the test wants.
        string directory = Directory.CreateTempSubdirectory("dclm-loading-").FullName;
        string path = Path.Combine(directory, "model.gguf");
        Assert.Equal(0, MakeFifo(path, Convert.ToUInt32("600", 8)));
        try
        {
            await using var server = await DclmServer.StartAsync(ServerFixture.Options() with { ModelPath = path });
            using var client = new HttpClient { BaseAddress = server.Address };
            for (int i = 0; i < 3; i++)
            {
                using var health = await client.GetAsync("/health");
                Assert.Equal(HttpStatusCode.ServiceUnavailable, health.StatusCode);
                Assert.Equal("loading", JsonDocument.Parse(await health.Content.ReadAsStringAsync()).RootElement.GetProperty("status").GetString());
                using var completion = await client.PostAsync("/v1/completions", ServerFixture.Json("""{"prompt": "hi"}"""));
                Assert.Equal(HttpStatusCode.ServiceUnavailable, completion.StatusCode);
                Assert.False(server.Host.Loading.IsCompleted);
                await Task.Delay(50);
            }
            // Feed the pipe a truncated file: the load ends with an error that names it, and health says so.
            await using (var writer = new FileStream(path, FileMode.Open, FileAccess.Write)) writer.Write("GGUF"u8);
            await Assert.ThrowsAnyAsync<Exception>(() => server.Host.Loading.WaitAsync(TimeSpan.FromMinutes(2)));
            using var failed = await client.GetAsync("/health");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, failed.StatusCode);
            Assert.Equal("error", JsonDocument.Parse(await failed.Content.ReadAsStringAsync()).RootElement.GetProperty("status").GetString());
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
