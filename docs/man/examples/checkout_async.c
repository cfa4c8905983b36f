/* man: kasko_quote_create_async kasko_offer_create_async kasko_payment_create_async kasko_offer_get_async kasko_policy_get_async */
#include <kasko.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The checkout as a chain of callbacks: each step's callback makes
 * the next call, so no thread of the program waits on the network. */
static kasko_client *client;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ended = PTHREAD_COND_INITIALIZER;
static int finished;

static void finish(kasko_result *result, const char *what)
{
  printf("%s: %s\n", what, kasko_status_name(kasko_result_status(
                             result)));
  kasko_result_free(result);
  pthread_mutex_lock(&lock);
  finished = 1;
  pthread_cond_signal(&ended);
  pthread_mutex_unlock(&lock);
}

/* A step's answer, or NULL after finishing on its error. */
static const char *member(kasko_result *result, const char *name)
{
  const char *value = NULL;

  if (kasko_result_status(result) != KASKO_OK
      || kasko_result_member_string(result, name, &value, 0)
             != KASKO_OK) {
    finish(result, kasko_result_message(result) ? "failed" : name);
    return NULL;
  }
  return value;
}

static void on_policy(kasko_result *result, void *user_data)
{
  const char *state = member(result, "status");

  (void)user_data;
  if (state != NULL) {
    printf("policy %s\n", state);
    finish(result, "checkout");
  }
}

static void on_payment(kasko_result *result, void *user_data)
{
  char *policy = user_data;

  if (member(result, "id") != NULL) {
    kasko_result_free(result);
    if (kasko_policy_get_async(client, policy, NULL, on_policy,
                               NULL, NULL) != KASKO_OK)
      finish(NULL, "policy view refused");
  }
  free(policy);
}

static void on_offer(kasko_result *result, void *user_data)
{
  const char *id = member(result, "id");
  const char *token = id ? member(result, "payment_token") : NULL;
  char *policy;

  (void)user_data;
  if (token == NULL)
    return;
  policy = malloc(strlen(id) + 1);
  strcpy(policy, id);
  /* kasko_offer_get_async(client, policy, ...) views it again. */
  if (kasko_payment_create_async(client, token, "invoice",
                                 "invoice", policy, NULL,
                                 on_payment, policy, NULL)
      != KASKO_OK) {
    free(policy);
    finish(NULL, "payment refused");
  }
  kasko_result_free(result);
}

static void on_quote(kasko_result *result, void *user_data)
{
  const char *token = member(result, "token");
  char offer[512];

  (void)user_data;
  if (token == NULL)
    return;
  snprintf(offer, sizeof offer,
           "{\"quote_token\":\"%s\",\"first_name\":\"Ada\","
           "\"last_name\":\"Lovelace\",\"email\":\"ada@example.com\","
           "\"language\":\"en\"}", token);
  kasko_result_free(result);
  if (kasko_offer_create_async(client, offer, NULL, on_offer, NULL,
                               NULL) != KASKO_OK)
    finish(NULL, "offer refused");
}

int main(int argc, char **argv)
{
  char config[512];
  char *text = NULL;

  if (argc != 2) {
    fprintf(stderr, "usage: %s QUOTE_REQUEST_JSON\n", argv[0]);
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
  if (kasko_quote_create_async(client, argv[1], NULL, on_quote, NULL,
                               NULL) == KASKO_OK) {
    pthread_mutex_lock(&lock);
    while (!finished)
      pthread_cond_wait(&ended, &lock);
    pthread_mutex_unlock(&lock);
  }
  kasko_client_free(client);
  return 0;
}
