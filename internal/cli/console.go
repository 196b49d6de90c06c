package cli

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// consoleCmd prints the web console's address and a one-time sign-in link for the
// configured key.
func (a *app) consoleCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "console",
		Short: "Print the web console's URL and a one-time sign-in link for your access key (sparkplane extension)",
		Long: `Print the address of the server's web console (/console/) and a link that signs the browser
in as the access key this command signs with: the key of --profile, the environment, or the
shared credentials file, as for every other command. The link works once and for 5 minutes;
the session it starts lasts the server's console.sessionDuration (12h by default). What the
console then shows and allows follows that key's policies.

The server makes the link (POST /consolesignin, action sparkplane:CreateConsoleSignInLink):
the secret never leaves this machine, and the link carries no secret of yours.`,
		Example: `  sparkplane console
  sparkplane console --endpoint-url https://sparkplane.example.com -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ep, err := a.endpointURL()
			if err != nil {
				return err
			}
			raw, err := a.send(cmd.Context(), http.MethodPost, "/consolesignin", nil, []byte("{}"))
			if err != nil {
				return err
			}
			var out struct {
				Path      string    `json:"path"`
				ExpiresAt time.Time `json:"expiresAt"`
			}
			if err := json.Unmarshal(raw, &out); err != nil {
				return fmt.Errorf("decode the server's answer: %w", err)
			}
			base := strings.TrimRight(ep, "/")
			res := struct {
				ConsoleURL string    `json:"consoleUrl"`
				SignInURL  string    `json:"signInUrl"`
				ExpiresAt  time.Time `json:"expiresAt"`
			}{base + "/console/", base + out.Path, out.ExpiresAt}
			if a.g.output == "json" {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(res)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Console:      %s\nSign-in link: %s\n              (works once, until %s)\n",
				res.ConsoleURL, res.SignInURL, res.ExpiresAt.UTC().Format("15:04:05 MST"))
			return nil
		},
	}
}
