/* man: kasko_client_new_v2 */
#include <kasko.h>
#include <stdio.h>

/* A client from a JSON configuration file, such as
 *   {"public_key": "pk_live_...", "secret_key": "sk_live_...",
 *    "proxy": "http://proxy.internal:3128"}
 * A refusal comes back as a result: its message names the key that is
 * wrong, and never quotes a key's value. */
int main(int argc, char **argv)
{
  static char config_json[64 * 1024];
  kasko_client *client = NULL;
  kasko_result *error = NULL;
  size_t length;
  FILE *file;

  if (argc != 2 || (file = fopen(argv[1], "r")) == NULL) {
    fprintf(stderr, "usage: %s CONFIG.json\n", argv[0]);
    return 2;
  }
  length = fread(config_json, 1, sizeof config_json - 1, file);
  fclose(file);
  config_json[length] = '\0';

  if (kasko_client_new_v2(config_json, &client, &error) != KASKO_OK) {
    fprintf(stderr, "%s: %s\n", argv[1], kasko_result_message(error));
    kasko_result_free(error);
    return 1;
  }
  /* ... calls ... */
  kasko_client_free(client);
  return 0;
}
