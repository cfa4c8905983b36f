/* man: kasko_payment_resolve_async */
#include <kasko.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

/* After a create whose outcome was unknown: resolves it without
 * blocking, then waits for the one callback. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ended = PTHREAD_COND_INITIALIZER;
static int finished;

static void on_resolved(kasko_result *result, void *user_data)
{
  const char *state = NULL, *payment = NULL;

  (void)user_data;
  if (kasko_result_member_string(result, "state", &state, 0)
      == KASKO_OK) {
    if (kasko_result_member_string(result, "payment_id", &payment,
                                   0) != KASKO_OK)
      payment = "(none named)";
    printf("%s, payment %s\n", state, payment);
  } else {
    /* Still unknown: the view or the create had no usable answer. */
    fprintf(stderr, "%s\n", kasko_result_message(result));
  }
  kasko_result_free(result);
  pthread_mutex_lock(&lock);
  finished = 1;
  pthread_cond_signal(&ended);
  pthread_mutex_unlock(&lock);
}

int main(int argc, char **argv)
{
  char config[512];
  kasko_client *client = NULL;
  char *text = NULL;

  if (argc != 3) {
    fprintf(stderr, "usage: %s PAYMENT_TOKEN POLICY_ID\n", argv[0]);
    return 2;
  }
  snprintf(config, sizeof config,
           "{\"public_key\":\"%s\",\"secret_key\":\"%s\"}",
           getenv("KASKO_PUBLIC_KEY"), getenv("KASKO_SECRET_KEY"));
  if (kasko_client_new(config, &client, &text) != KASKO_OK) {
    fprintf(stderr, "%s\n", text);
    kasko_string_free(text);
    return 1;
  }
  /* The same four fields as the create whose answer was lost. */
  if (kasko_payment_resolve_async(client, argv[1], "invoice",
                                  "invoice", argv[2], NULL,
                                  on_resolved, NULL, NULL)
      == KASKO_OK) {
    pthread_mutex_lock(&lock);
    while (!finished)
      pthread_cond_wait(&ended, &lock);
    pthread_mutex_unlock(&lock);
  }
  kasko_client_free(client);
  return 0;
}
