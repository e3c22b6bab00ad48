using System.Security.Cryptography;
using System.Text;

namespace Dclm.Server.Hosting;

/// <summary>Compares a presented Bearer token with the configured key in constant time.</summary>
internal sealed class ApiKeyCheck(string key)
{
    // Hashing both sides first makes the comparison length-independent as well as constant-time.
    private readonly byte[] _expected = SHA256.HashData(Encoding.UTF8.GetBytes(key));

    public bool Accepts(string? authorization)
    {
        const string scheme = "Bearer ";
        if (authorization is null || !authorization.StartsWith(scheme, StringComparison.OrdinalIgnoreCase)) return false;
        var presented = SHA256.HashData(Encoding.UTF8.GetBytes(authorization[scheme.Length..].Trim()));
        return CryptographicOperations.FixedTimeEquals(presented, _expected);
    }
}
