using System.Text.Json;
using Microsoft.Playwright;

namespace Dclm.Server.Tests;

/// <summary>The chat page at / driven end to end in headless Chromium (Debian's browser; none is downloaded).</summary>
[Collection("server")]
public sealed class ChatPageTests(ServerFixture fixture)
{
    [Fact]
    public async Task TheChatPageStreamsARepliesAndReusesTheCacheOnTheNextTurn()
    {
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await HeadlessChromium.LaunchAsync(playwright);
        var page = await browser.NewPageAsync();
        await page.GotoAsync(fixture.Server.Address.ToString());
        await Assertions.Expect(page.Locator("#model")).ToHaveTextAsync(fixture.ModelId);
        await page.FillAsync("#temperature", "0");
        await page.FillAsync("#max-tokens", "8");

        await page.FillAsync("#prompt", "What is a cat?");
        await page.PressAsync("#prompt", "Enter");
        var reply = page.Locator(".assistant[data-done=true]");
        await Assertions.Expect(reply).ToHaveCountAsync(1);
        string shown = await reply.First.TextContentAsync() ?? "";
        var (_, api) = await fixture.PostAsync("/v1/chat/completions", """{"messages": [{"role": "user", "content": "What is a cat?"}], "max_tokens": 8, "temperature": 0}""");
        Assert.Equal(api.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString(), shown);

        await page.FillAsync("#prompt", "And a dog?");
        await page.ClickAsync("#send");
        await Assertions.Expect(page.Locator(".assistant[data-done=true]")).ToHaveCountAsync(2);
        string status = await page.Locator("#status").TextContentAsync() ?? "";
        var cached = System.Text.RegularExpressions.Regex.Match(status, @"(\d+) of (\d+) prompt tokens cached");
        Assert.True(cached.Success, $"status line: {status}");
        Assert.True(int.Parse(cached.Groups[1].Value) > 0, $"the second turn reused nothing: {status}");
        Assert.Empty(await page.Locator(".error").AllAsync());
    }
}

/// <summary>Debian's Chromium, headless, through Playwright (scripts/setup.sh installs it; Playwright downloads nothing).</summary>
internal static class HeadlessChromium
{
    private const string Browser = "/usr/bin/chromium";

    public static Task<IBrowser> LaunchAsync(IPlaywright playwright)
    {
        Assert.True(File.Exists(Browser), $"{Browser} is missing: run scripts/setup.sh (apt-get install chromium)");
        return playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Browser, Headless = true,
            Args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
    }
}
